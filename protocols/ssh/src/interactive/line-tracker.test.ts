import { ProtocolError } from '@gatehouse/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineTracker, type SubmittedLine, trackLines } from './line-tracker.js';

const enc = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const utf8 = (s: string): Uint8Array => Buffer.from(s, 'utf8');

function lines(input: string | Uint8Array, mode: 'terminal' | 'raw' = 'terminal'): SubmittedLine[] {
  return trackLines([typeof input === 'string' ? enc(input) : input], { mode });
}

function texts(input: string | Uint8Array, mode: 'terminal' | 'raw' = 'terminal'): string[] {
  return lines(input, mode).map((l) => l.text);
}

describe('line tracker: what is typed', () => {
  it.each([
    ['ls -la\r', ['ls -la']],
    ['ls\rpwd\r', ['ls', 'pwd']],
    ['echo hi\n', ['echo hi']],
    ['\r', ['']],
    ['lss\x7f -l\r', ['ls -l']],
    ['lss\x08 -l\r', ['ls -l']],
    ['\x7f\x7fls\r', ['ls']],
    ['rm -rf /\x15ls\r', ['ls']],
    ['echo one two\x17three\r', ['echo one three']],
    ['echo one two  \x17\x17x\r', ['echo x']],
    ['rm -rf /\x03ls\r', ['ls']],
    ['ls\x0c\r', ['ls']],
    ['no submit yet', []],
  ])('%j → %j', (input, expected) => {
    expect(texts(input)).toEqual(expected);
    for (const l of lines(input)) expect(l.approximate).toBe(false);
  });

  it('decodes UTF-8 and deletes whole characters', () => {
    expect(texts(utf8('echo héllo→\r'))).toEqual(['echo héllo→']);
    expect(texts(utf8('echo é\x7f\x7fa\r'))).toEqual(['echoa']);
    expect(texts(utf8('echo 😀\x7fx\r'))).toEqual(['echo x']);
  });

  it('reports where the line was submitted so the Enter byte can be held', () => {
    const tracker = new LineTracker({ mode: 'terminal' });
    const chunk = enc('ls\rpwd\r');
    const first = tracker.feed(chunk);
    expect(first).toMatchObject({ end: 3, line: { text: 'ls' } });
    expect(chunk[first.end - 1]).toBe(0x0d);
    const second = tracker.feed(chunk, first.end);
    expect(second).toMatchObject({ end: 7, line: { text: 'pwd' } });
    expect(tracker.feed(chunk, second.end)).toEqual({ end: 7 });
  });
});

describe('line tracker: what cannot be known', () => {
  it.each([
    ['\x1b[A\r', '', ['history']],
    ['ls\x1b[D\x1b[Dx\r', 'lsx', ['cursor-movement']],
    ['ls\x1bOA\r', 'ls', ['history']],
    ['ls\x1b[1~\r', 'ls', ['cursor-movement']],
    ['ls\x1b[3~\r', 'ls', ['editing-key']],
    ['gi\tst\r', 'gist', ['completion']],
    ['\x12rm\r', 'rm', ['history']],
    ['ls\x01x\r', 'lsx', ['cursor-movement']],
    ['ls\x19\r', 'ls', ['editing-key']],
    ['ls\x1bb\r', 'ls', ['editing-key']],
    ['\x16\x07ls\r', 'ls', ['literal-next']],
    ['ls\x1b[99;99;99;99;99;99;99;99;99;99;99Z\r', 'ls', ['escape-sequence']],
  ])('%j → %j marked %j', (input, text, reasons) => {
    const [line] = lines(input);
    expect(line).toMatchObject({ text, approximate: true, reasons });
  });

  it('never swallows an Enter inside an escape sequence (vi mode: ESC then Enter)', () => {
    expect(lines('rm -rf /\x1b\r')).toEqual([
      { text: 'rm -rf /', approximate: true, reasons: ['escape-sequence'], pasted: false, truncated: false },
    ]);
    expect(texts('rm\x1b[1\r')).toEqual(['rm']);
    expect(texts('rm\x1bO\n')).toEqual(['rm']);
    expect(texts('rm\x16\r')).toEqual(['rm']);
  });

  it('Ctrl-C forgets why the abandoned line was approximate', () => {
    const [line] = lines('\x1b[A\x03ls\r');
    expect(line).toMatchObject({ text: 'ls', approximate: false });
  });

  it('cuts long lines and says so', () => {
    const tracker = new LineTracker({ mode: 'terminal', maxLineChars: 4 });
    const { line } = tracker.feed(enc('abcdefgh\r'));
    expect(line).toMatchObject({ text: 'abcd', truncated: true });
    expect(tracker.feed(enc('ok\r')).line).toMatchObject({ text: 'ok', truncated: false });
  });
});

describe('line tracker: bracketed paste', () => {
  it('inserts pasted text literally and submits on each pasted newline', () => {
    const got = lines('\x1b[200~echo a\x7f\nrm -rf /x\x1b[201~\r');
    expect(got.map((l) => [l.text, l.pasted])).toEqual([
      ['echo a', true],
      ['rm -rf /x', false],
    ]);
    expect(got[0]?.reasons).toEqual(['control-character']);
  });

  it('keeps tabs that are pasted', () => {
    expect(texts('\x1b[200~a\tb\x1b[201~\r')).toEqual(['a\tb']);
  });
});

describe('line tracker: raw input (no pty)', () => {
  it('takes every byte literally and submits on LF', () => {
    expect(texts('echo a\x7fb\r\nls\n', 'raw')).toEqual(['echo a\x7fb\r', 'ls']);
    expect(lines('x\x1b[A\n', 'raw')[0]?.approximate).toBe(false);
  });
});

describe('line tracker: chunking does not matter', () => {
  const samples = [
    'ls -la\recho héllo\x7f\x7fo\r\x1b[200~a\nb\x1b[201~\r\x1b[A\x1b[B\rgit st\tus\r',
    'echo 😀 ✓\x17x\r\x1bOA\x03ok\r\x16\x03\r',
  ];

  it.each(samples)('every split of %j gives the same lines', (sample) => {
    const bytes = utf8(sample);
    const whole = trackLines([bytes], { mode: 'terminal' });
    for (let i = 0; i <= bytes.length; i++) {
      for (const j of [i, Math.min(bytes.length, i + 1), Math.min(bytes.length, i + 3)]) {
        const parts = [bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)];
        expect(trackLines(parts, { mode: 'terminal' })).toEqual(whole);
      }
    }
  });

  it('byte-at-a-time equals all-at-once for any input (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.constantFrom<'terminal' | 'raw'>('terminal', 'raw'),
        (bytes, mode) => {
          const whole = trackLines([bytes], { mode });
          const single = trackLines(
            Array.from(bytes, (b) => Uint8Array.of(b)),
            { mode },
          );
          expect(single).toEqual(whole);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('only ProtocolError or nothing is thrown, and every submit byte ends a line (property)', () => {
    const interesting = fc.oneof(
      fc.uint8Array({ maxLength: 40 }),
      fc.constantFrom(
        ...[
          '\x1b',
          '[',
          '200~',
          '201~',
          '\r',
          '\n',
          '\x7f',
          '\x15',
          '\x17',
          '\x03',
          '\x16',
          'O',
          '\t',
          'é',
        ].map(utf8),
      ),
    );
    fc.assert(
      fc.property(fc.array(interesting, { maxLength: 60 }), fc.integer({ min: 1, max: 50 }), (parts, max) => {
        const bytes = Buffer.concat(parts);
        let got: SubmittedLine[] = [];
        try {
          got = trackLines([bytes], { mode: 'terminal', maxLineChars: max });
        } catch (err) {
          expect(err).toBeInstanceOf(ProtocolError);
          return;
        }
        const submits = bytes.filter((b) => b === 0x0a || b === 0x0d).length;
        expect(got).toHaveLength(submits);
        for (const line of got) expect(line.text.length).toBeLessThanOrEqual(max);
      }),
      { numRuns: 500 },
    );
  });
});
