import { EventType, ProtocolError, type StoredEvent } from '@gatehouse/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Asciicast,
  type AsciicastEvent,
  buildAsciicast,
  formatAsciicast,
  parseAsciicast,
  terminalSize,
  toAsciicast,
} from './asciicast.js';
import type { SessionSummary } from './reader.js';

const START = Date.UTC(2030, 0, 1, 12, 0, 0, 250);

const session: SessionSummary = {
  id: 'sess-1',
  connection: 'web-ssh',
  protocol: 'ssh',
  clientAddress: '127.0.0.1:5000',
  subject: 'agent-1',
  groups: ['agents'],
  startedAt: new Date(START),
  endedAt: new Date(START + 5000),
  endReason: 'client-closed',
  commands: 1,
  denied: 0,
};

let seq = 0;
function output(stream: string, t: number, data: string | Buffer, sessionId = 'sess-1'): StoredEvent {
  seq += 1;
  const payload = typeof data === 'string' ? { data } : { data: data.toString('base64'), encoding: 'base64' };
  return {
    seq,
    ts: START + t,
    sessionId,
    type: EventType.Output,
    data: { stream, t, ...payload },
    prevHash: '',
    hash: '',
  };
}

function other(type: EventType, data: Record<string, unknown>): StoredEvent {
  seq += 1;
  return { seq, ts: START, sessionId: 'sess-1', type, data, prevHash: '', hash: '' };
}

describe('buildAsciicast', () => {
  it('writes a header and timed output events', () => {
    const text = toAsciicast(session, [
      other(EventType.SessionStart, { connection: 'web-ssh' }),
      output('resize', 0, '120x40'),
      output('stdout', 12, '$ '),
      output('stdin', 500, 'ls\r'),
      output('stdout', 501, 'ls\r\nREADME\r\n'),
      output('stderr', 1500, 'oops\r\n'),
      output('resize', 2000, '100x30'),
      other(EventType.SessionEnd, { reason: 'client-closed' }),
    ]);
    const lines = text.split('\n');
    expect(JSON.parse(lines[0] as string)).toEqual({
      version: 2,
      width: 120,
      height: 40,
      timestamp: Math.floor(START / 1000),
      duration: 5,
      title: 'agent-1@web-ssh sess-1',
      env: {},
    });
    expect(lines.slice(1)).toEqual([
      '[0.012000, "o", "$ "]',
      '[0.501000, "o", "ls\\r\\nREADME\\r\\n"]',
      '[1.500000, "o", "oops\\r\\n"]',
      '[2.000000, "r", "100x30"]',
      '',
    ]);
  });

  it('adds input only when asked, and the options to the header', () => {
    const events = [output('stdout', 0, '$ '), output('stdin', 300, 'ls\r')];
    expect(buildAsciicast(session, events).events.map((e) => e[1])).toEqual(['o']);
    const cast = buildAsciicast(session, events, {
      includeInput: true,
      title: 'T',
      env: { TERM: 'xterm' },
      idleTimeLimit: 2,
    });
    expect(cast.events).toEqual([
      [0, 'o', '$ '],
      [0.3, 'i', 'ls\r'],
    ]);
    expect(cast.header).toMatchObject({ title: 'T', env: { TERM: 'xterm' }, idle_time_limit: 2 });
  });

  it('uses 80x24 when no size is recorded, and only this session’s output events', () => {
    const cast = buildAsciicast(session, [
      output('stdout', 0, 'mine'),
      output('stdout', 1, 'theirs', 'sess-2'),
      other(EventType.Command, { text: 'ls' }),
      output('weird', 2, 'x'),
      output('resize', 3, 'not a size'),
    ]);
    expect(cast.header).toMatchObject({ width: 80, height: 24 });
    expect(cast.events).toEqual([[0, 'o', 'mine']]);
  });

  it('decodes base64 data and carries a character split across events', () => {
    const euro = Buffer.from('€', 'utf8'); // e2 82 ac
    const cast = buildAsciicast(session, [
      output('stdout', 0, Buffer.concat([Buffer.from('price: '), euro.subarray(0, 1)])),
      output('stderr', 5, 'warn '),
      output('stdout', 10, Buffer.concat([euro.subarray(1), Buffer.from('5')])),
      output('stdout', 20, Buffer.from([0xff, 0x41])),
      output('stdout', 30, Buffer.from([0xf0, 0x9f])),
    ]);
    expect(cast.events).toEqual([
      [0, 'o', 'price: '],
      [0.005, 'o', 'warn '],
      [0.01, 'o', '€5'],
      [0.02, 'o', '\uFFFDA'],
      // An incomplete character at the very end cannot be completed: it is shown as such.
      [0.03, 'o', '\uFFFD'],
    ]);
  });

  it('keeps a leading byte order mark and times that never go backwards', () => {
    const cast = buildAsciicast(session, [output('stdout', 100, '\uFEFFa'), output('stdout', 50, 'b')]);
    expect(cast.events).toEqual([
      [0.1, 'o', '\uFEFFa'],
      [0.1, 'o', 'b'],
    ]);
  });

  it('reads the resize forms the protocols record', () => {
    expect(terminalSize('80x24')).toEqual({ cols: 80, rows: 24 });
    expect(terminalSize('{"Width":132,"Height":43}')).toEqual({ cols: 132, rows: 43 });
    expect(terminalSize('{"cols":100,"rows":30}')).toEqual({ cols: 100, rows: 30 });
    expect(terminalSize('{"width":100}')).toBeUndefined();
    expect(terminalSize('0x24')).toBeUndefined();
    expect(terminalSize('{"Width":-1,"Height":2}')).toBeUndefined();
    expect(terminalSize('{')).toBeUndefined();
    expect(terminalSize('null')).toBeUndefined();
  });
});

describe('parseAsciicast', () => {
  it('reads what asciinema writes', () => {
    const text = [
      '{"version": 2, "width": 80, "height": 24, "timestamp": 1504467315, "title": "Demo", "env": {"TERM": "xterm-256color", "SHELL": null}, "theme": {"fg": "#fff"}}',
      '[0.248848, "o", "\\u001b[1;31mHello \\u001b[32mWorld!\\u001b[0m\\n"]',
      '[1.500000, "m", ""]',
      '[4.050000, "r", "80x24"]',
      '[6.541828, "i", "q"]',
      '',
    ].join('\r\n');
    expect(parseAsciicast(text)).toEqual({
      header: {
        version: 2,
        width: 80,
        height: 24,
        timestamp: 1504467315,
        title: 'Demo',
        env: { TERM: 'xterm-256color' },
      },
      events: [
        [0.248848, 'o', '\u001b[1;31mHello \u001b[32mWorld!\u001b[0m\n'],
        [1.5, 'm', ''],
        [4.05, 'r', '80x24'],
        [6.541828, 'i', 'q'],
      ],
    });
  });

  const bad: [string, string, RegExp][] = [
    ['empty text', '', /line 1: empty/],
    ['header not JSON', '{"version": 2,', /line 1: not JSON/],
    ['header an array', '[2, 80, 24]', /not a JSON object/],
    ['version 1', '{"version": 1, "width": 80, "height": 24}', /version must be 2/],
    ['version 3', '{"version": 3, "term": {"cols": 80, "rows": 24}}', /version must be 2/],
    ['no width', '{"version": 2, "height": 24}', /width/],
    ['fractional height', '{"version": 2, "width": 80, "height": 2.5}', /height/],
    ['negative timestamp', '{"version": 2, "width": 80, "height": 24, "timestamp": -1}', /timestamp/],
    ['title a number', '{"version": 2, "width": 80, "height": 24, "title": 5}', /title/],
    ['env an array', '{"version": 2, "width": 80, "height": 24, "env": []}', /env/],
    ['env value a number', '{"version": 2, "width": 80, "height": 24, "env": {"A": 1}}', /env/],
    ['event not an array', '{"version": 2, "width": 80, "height": 24}\n{"t": 1}', /line 2/],
    ['event of two', '{"version": 2, "width": 80, "height": 24}\n[1, "o"]', /line 2/],
    ['negative time', '{"version": 2, "width": 80, "height": 24}\n[-1, "o", "x"]', /time/],
    ['time a string', '{"version": 2, "width": 80, "height": 24}\n["1", "o", "x"]', /time/],
    ['unknown code', '{"version": 2, "width": 80, "height": 24}\n\n[1, "x", "x"]', /line 3: unknown event/],
    ['data not text', '{"version": 2, "width": 80, "height": 24}\n[1, "o", 5]', /data/],
    ['bad resize', '{"version": 2, "width": 80, "height": 24}\n[1, "r", "80 by 24"]', /COLSxROWS/],
    ['event line broken', '{"version": 2, "width": 80, "height": 24}\n[1, "o", "x"', /line 2: not JSON/],
  ];
  it.each(bad)('refuses %s with a ProtocolError', (_name, text, message) => {
    expect(() => parseAsciicast(text)).toThrow(ProtocolError);
    expect(() => parseAsciicast(text)).toThrow(message);
  });

  it('refuses text over the size limit', () => {
    expect(() => parseAsciicast('{"version": 2, "width": 80, "height": 24}', { maxLength: 10 })).toThrow(
      ProtocolError,
    );
  });

  it('throws nothing but a ProtocolError on arbitrary text', () => {
    const header = '{"version": 2, "width": 80, "height": 24}\n';
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.string().map((s) => header + s),
        ),
        (text) => {
          try {
            parseAsciicast(text);
          } catch (err) {
            if (!(err instanceof ProtocolError)) throw err;
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('throws nothing but a ProtocolError on arbitrary event lines', () => {
    const header = '{"version": 2, "width": 80, "height": 24}';
    const line = fc.oneof(
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.tuple(fc.jsonValue(), fc.jsonValue(), fc.jsonValue()).map((v) => JSON.stringify(v)),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 5 }), (lines) => {
        try {
          parseAsciicast([header, ...lines].join('\n'));
        } catch (err) {
          if (!(err instanceof ProtocolError)) throw err;
        }
      }),
    );
  });
});

describe('round trip', () => {
  const code = fc.constantFrom('o' as const, 'i' as const, 'm' as const);
  const event: fc.Arbitrary<AsciicastEvent> = fc.oneof(
    fc.tuple(
      fc.nat({ max: 10 ** 10 }).map((us) => us / 1e6),
      code,
      fc.string({ unit: 'grapheme' }),
    ),
    fc.tuple(
      fc.nat({ max: 10 ** 10 }).map((us) => us / 1e6),
      fc.constant('r' as const),
      fc
        .tuple(fc.integer({ min: 1, max: 65_535 }), fc.integer({ min: 1, max: 65_535 }))
        .map(([c, r]) => `${c}x${r}`),
    ),
  );
  const cast: fc.Arbitrary<Asciicast> = fc.record({
    header: fc.record(
      {
        version: fc.constant(2 as const),
        width: fc.integer({ min: 1, max: 65_535 }),
        height: fc.integer({ min: 1, max: 65_535 }),
        timestamp: fc.nat(),
        title: fc.string(),
        env: fc.dictionary(fc.string(), fc.string()),
      },
      { requiredKeys: ['version', 'width', 'height'] },
    ),
    events: fc.array(event, { maxLength: 20 }),
  });

  it('parses what formatAsciicast writes back to the same recording', () => {
    fc.assert(
      fc.property(cast, (c) => {
        expect(parseAsciicast(formatAsciicast(c))).toEqual(c);
      }),
      { numRuns: 500 },
    );
  });

  it('parses what toAsciicast writes from any output events back to the same events', () => {
    const stream = fc.constantFrom('stdout', 'stderr', 'stdin', 'resize');
    const data = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b)),
      fc.constantFrom('80x24', '{"Width":100,"Height":30}'),
    );
    const raw = fc.array(fc.tuple(stream, fc.nat({ max: 100_000 }), data), { maxLength: 30 });
    fc.assert(
      fc.property(raw, fc.boolean(), (list, includeInput) => {
        const events = list.map(([s, t, d]) => output(s, t, d));
        const built = buildAsciicast(session, events, { includeInput });
        const parsed = parseAsciicast(toAsciicast(session, events, { includeInput }));
        expect(parsed).toEqual(built);
        for (const [, c, d] of built.events) {
          if (c !== 'r') expect(Buffer.from(d, 'utf8').toString('utf8')).toBe(d);
        }
      }),
      { numRuns: 250 },
    );
  });
});
