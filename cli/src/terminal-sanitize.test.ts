import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sanitizeTerminal, TerminalSanitizer } from './terminal-sanitize.js';

const E = '\u001b';

describe('TerminalSanitizer (terminal)', () => {
  it('keeps colours, cursor movement, erasing and plain controls', () => {
    const kept = [
      `${E}[31mred${E}[0m`,
      `${E}[38;2;1;2;3mrgb${E}[38:5:200m`,
      `${E}[2J${E}[H${E}[10;5H${E}[3A${E}[B${E}[12C${E}[D${E}[K${E}[?2K`,
      `${E}[1;24r${E}[s${E}[u${E}7${E}8${E}M`,
      `${E}[?1049h${E}[?25l${E}[?25h${E}[?1049l${E}[2 q`,
      `${E}(0lqk${E}(B`,
      'a\tb\r\nc\bd',
      'été 5€ 👍',
    ];
    for (const text of kept) expect(sanitizeTerminal(text)).toBe(text);
  });

  it('drops OSC strings: title, clipboard, hyperlinks', () => {
    expect(sanitizeTerminal(`a${E}]0;pwned\u0007b`)).toBe('ab');
    expect(sanitizeTerminal(`a${E}]52;c;ZWNobyBoaQ==${E}\\b`)).toBe('ab');
    expect(sanitizeTerminal(`${E}]8;;https://x.example/${E}\\link${E}]8;;${E}\\`)).toBe('link');
    expect(sanitizeTerminal('a\u009d2;title\u009cb')).toBe('ab');
  });

  it('drops DCS, APC, PM and SOS strings, DECRQSS included', () => {
    expect(sanitizeTerminal(`a${E}P$qm${E}\\b`)).toBe('ab');
    expect(sanitizeTerminal(`a${E}_Gf=100;AAAA${E}\\b`)).toBe('ab');
    expect(sanitizeTerminal(`a${E}^privacy${E}\\b${E}Xsos${E}\\c`)).toBe('abc');
    expect(sanitizeTerminal('a\u0090$q"p\u009cb')).toBe('ab');
    // BEL does not end a DCS: everything up to ST is dropped.
    expect(sanitizeTerminal(`a${E}Px\u0007y${E}\\b`)).toBe('ab');
  });

  it('drops device and status queries, reports and window operations', () => {
    for (const seq of [
      '[6n',
      '[5n',
      '[?6n',
      '[c',
      '[0c',
      '[>c',
      '[>0c',
      '[=c',
      '[14t',
      '[8;100;200t',
      '[21t',
    ]) {
      expect(sanitizeTerminal(`a${E}${seq}b`), seq).toBe('ab');
    }
    expect(sanitizeTerminal(`a${E}[?1$p${E}[>q${E}Z${E}cb`)).toBe('ab');
    expect(sanitizeTerminal('a\u009b6nb\u009b31mc')).toBe(`ab${E}[31mc`);
  });

  it('keeps only the harmless modes: no mouse, focus or paste reporting', () => {
    expect(sanitizeTerminal(`${E}[?1000h${E}[?1006h${E}[?2004h${E}[?1004h${E}[12l`)).toBe('');
    expect(sanitizeTerminal(`${E}[?1049;1000;25h`)).toBe(`${E}[?1049;25h`);
    expect(sanitizeTerminal(`${E}[>4;2m${E}[?u${E}[>1u`)).toBe('');
  });

  it('drops other C0 and C1 controls', () => {
    expect(sanitizeTerminal('a\u0005b\u0007c\u000ed\u000fe\u007ff\u0085g\u0088h')).toBe('abcdefgh');
  });

  it('carries a sequence split across writes', () => {
    const s = new TerminalSanitizer();
    const parts = [
      'x',
      E,
      ']0;ti',
      'tle',
      E,
      '',
      '\\y',
      E,
      '[3',
      '1',
      'mz',
      E,
      '[',
      '6',
      'n!',
      '\u009b',
      '0m',
    ];
    expect(parts.map((p) => s.write(p)).join('') + s.end()).toBe(`xy${E}[31mz!${E}[0m`);
    // An unfinished sequence at the end is dropped.
    expect(s.write(`a${E}[3`) + s.end()).toBe('a');
    expect(s.write('b')).toBe('b');
  });

  it('an ESC inside a string starts a new sequence; CAN cancels one', () => {
    expect(sanitizeTerminal(`a${E}]0;t${E}[1mb`)).toBe(`a${E}[1mb`);
    expect(sanitizeTerminal(`a${E}[31\u0018b`)).toBe('ab');
    expect(sanitizeTerminal(`a${E}[31\r\nb`)).toBe('a\r\nb');
  });
});

describe('TerminalSanitizer (text)', () => {
  it('keeps plain text and newlines only', () => {
    const s = new TerminalSanitizer('text');
    const parts = [`${E}]0;t\u0007$ ls\r`, `\n${E}[1;34mdir${E}[0m\tfile\r\n`, `\u0007x\by${E}[`, '2Jz\r\n'];
    expect(parts.map((p) => s.write(p)).join('') + s.end()).toBe('$ ls\ndirfile\nxyz\n');
  });
});

describe('TerminalSanitizer (fuzz)', () => {
  const unit = fc.oneof(
    {
      weight: 3,
      arbitrary: fc.constantFrom(E, '[', ']', 'P', '_', '^', 'X', '\\', '\u0007', ';', '?', '>', '$'),
    },
    {
      weight: 2,
      arbitrary: fc.constantFrom('\u009b', '\u009d', '\u0090', '\u009c', '\u0018', '0', '1', '6', 'm', 'n'),
    },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 4 }) },
  );
  const chunks = fc.array(
    fc.array(unit, { maxLength: 12 }).map((a) => a.join('')),
    { maxLength: 12 },
  );

  it('never throws, never lets OSC through, and does not depend on how the text is split', () => {
    fc.assert(
      fc.property(chunks, fc.constantFrom('terminal' as const, 'text' as const), (parts, mode) => {
        const s = new TerminalSanitizer(mode);
        const out = parts.map((p) => s.write(p)).join('') + s.end();
        expect(out).not.toContain(`${E}]`);
        expect(out).not.toContain('\u009d');
        expect(out).not.toMatch(/[\u0080-\u009f]/);
        // Every ESC left starts a complete sequence from the allow-list.
        expect(
          out.replace(/\u001b(\[[?]?[0-9:;]*[ ]?[@A-Za-z`]|[78DEM]|[()*+][\u0030-\u007e])/g, ''),
        ).not.toContain(E);
        if (mode === 'text') expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
        expect(out).toBe(sanitizeTerminal(parts.join(''), mode));
      }),
      { numRuns: 2000 },
    );
  });
});
