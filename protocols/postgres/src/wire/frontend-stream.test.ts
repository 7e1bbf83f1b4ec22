import { ProtocolError } from '@gatehouse/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FormatCode } from './codes.js';
import { FrontendDecoder } from './frontend-decoder.js';
import { encodeFrontendMessage } from './frontend-encoder.js';
import type { FrontendMessage, FrontendMessageInput } from './frontend-messages.js';

// Streams of valid messages, chunked every which way, must decode exactly like the whole stream;
// arbitrary or corrupted bytes must only ever produce a ProtocolError.

const text = fc.string({ unit: 'binary', maxLength: 12 }).map((s) => s.replaceAll('\0', ''));
const bytes = fc.uint8Array({ maxLength: 24 }).map((a) => Buffer.from(a));
const value = fc.option(bytes, { nil: null, freq: 4 });
const format = fc.constantFrom<FormatCode>(0, 1);

/** Format code lists that obey the 0/1/n rule for `n` values. */
function formatsFor(n: number): fc.Arbitrary<FormatCode[]> {
  return fc.oneof(
    fc.constant<FormatCode[]>([]),
    format.map((f) => [f]),
    fc.array(format, { minLength: n, maxLength: n }),
  );
}

const typedMessage: fc.Arbitrary<FrontendMessageInput> = fc.oneof(
  text.map((query) => ({ type: 'Query' as const, query })),
  fc.record({
    type: fc.constant('Parse' as const),
    statement: text,
    query: text,
    paramTypes: fc.array(fc.nat({ max: 0xffffffff }), { maxLength: 4 }),
  }),
  fc.array(value, { maxLength: 5 }).chain((params) =>
    fc.record({
      type: fc.constant('Bind' as const),
      portal: text,
      statement: text,
      paramFormats: formatsFor(params.length),
      params: fc.constant(params),
      resultFormats: fc.array(format, { maxLength: 3 }),
    }),
  ),
  fc.record({
    type: fc.constantFrom('Describe' as const, 'Close' as const),
    target: fc.constantFrom('statement' as const, 'portal' as const),
    name: text,
  }),
  fc.record({
    type: fc.constant('Execute' as const),
    portal: text,
    maxRows: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  }),
  fc.constantFrom<FrontendMessageInput>(
    { type: 'Sync' },
    { type: 'Flush' },
    { type: 'CopyDone' },
    { type: 'Terminate' },
  ),
  bytes.map((data) => ({ type: 'CopyData' as const, data })),
  text.map((message) => ({ type: 'CopyFail' as const, message })),
  fc.array(value, { maxLength: 4 }).chain((args) =>
    fc.record({
      type: fc.constant('FunctionCall' as const),
      functionOid: fc.nat({ max: 0xffffffff }),
      argFormats: formatsFor(args.length),
      args: fc.constant(args),
      resultFormat: format,
    }),
  ),
  bytes.map((data) => ({ type: 'PasswordMessage' as const, data })),
);

const startupMessage: fc.Arbitrary<FrontendMessageInput> = fc
  .uniqueArray(fc.record({ name: text.filter((s) => s !== ''), value: text }), {
    selector: (p) => p.name,
    maxLength: 4,
  })
  .map((parameters) => ({ type: 'StartupMessage' as const, majorVersion: 3, minorVersion: 0, parameters }));

const stream = fc
  .tuple(startupMessage, fc.array(typedMessage, { maxLength: 12 }))
  .map(([s, ms]) => [s, ...ms]);

/** Cut points (sorted, deduplicated) splitting `length` bytes into chunks. */
function cutsFor(length: number): fc.Arbitrary<number[]> {
  return fc
    .uniqueArray(fc.integer({ min: 1, max: Math.max(1, length - 1) }), { maxLength: 12 })
    .map((c) => c.filter((x) => x < length).sort((a, b) => a - b));
}

function chunk(buf: Buffer, cuts: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  for (const c of cuts) {
    out.push(buf.subarray(from, c));
    from = c;
  }
  out.push(buf.subarray(from));
  return out;
}

function decodeChunks(chunks: readonly Buffer[], decoder = new FrontendDecoder()): FrontendMessage[] {
  const out: FrontendMessage[] = [];
  for (const c of chunks) out.push(...decoder.push(c));
  expect(decoder.bufferedBytes).toBe(0);
  return out;
}

/** A fixed stream with every message kind, for exhaustive split tests. */
const fixed: FrontendMessageInput[] = [
  {
    type: 'StartupMessage',
    majorVersion: 3,
    minorVersion: 2,
    parameters: [{ name: 'user', value: 'ünïcode' }],
  },
  { type: 'PasswordMessage', data: Buffer.from('n,,n=,r=abc') },
  { type: 'Query', query: 'select 1; select 2' },
  { type: 'Parse', statement: '', query: 'select $1', paramTypes: [25] },
  {
    type: 'Bind',
    portal: '',
    statement: '',
    paramFormats: [],
    params: [Buffer.from('x'), null],
    resultFormats: [1],
  },
  { type: 'Describe', target: 'portal', name: '' },
  { type: 'Execute', portal: '', maxRows: 0 },
  { type: 'Close', target: 'statement', name: 's' },
  { type: 'Flush' },
  { type: 'Sync' },
  { type: 'CopyData', data: Buffer.alloc(300, 0x41) },
  { type: 'CopyDone' },
  { type: 'CopyFail', message: 'no' },
  { type: 'FunctionCall', functionOid: 1, argFormats: [1], args: [Buffer.from([1])], resultFormat: 1 },
  { type: 'Terminate' },
];

describe('FrontendDecoder over split streams', () => {
  const whole = Buffer.concat(fixed.map((m) => encodeFrontendMessage(m)));
  const expected = new FrontendDecoder().push(whole);

  it('decodes the fixed stream into every message kind', () => {
    expect(expected.map((m) => m.type)).toEqual(fixed.map((m) => m.type));
  });

  it('decodes identically when split at every offset', () => {
    for (let i = 1; i < whole.length; i++) {
      expect(decodeChunks([whole.subarray(0, i), whole.subarray(i)])).toEqual(expected);
    }
  });

  it('decodes identically from 1-byte chunks', () => {
    const ones = Array.from({ length: whole.length }, (_, i) => whole.subarray(i, i + 1));
    expect(decodeChunks(ones)).toEqual(expected);
  });

  it('decodes arbitrary valid streams identically under arbitrary chunking', () => {
    fc.assert(
      fc.property(
        stream.chain((ms) => {
          const buf = Buffer.concat(ms.map((m) => encodeFrontendMessage(m)));
          return fc.tuple(fc.constant(ms), fc.constant(buf), cutsFor(buf.length));
        }),
        ([ms, buf, cuts]) => {
          const out = decodeChunks(chunk(buf, cuts));
          expect(out.map(({ raw: _raw, ...rest }) => rest)).toEqual(ms);
          expect(Buffer.concat(out.map((m) => m.raw)).equals(buf)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});

/** Pushes chunks until the end or the first error; any error other than ProtocolError fails. */
function pushAll(decoder: FrontendDecoder, chunks: readonly Buffer[]): void {
  let pushed = 0;
  let decoded = 0;
  for (const c of chunks) {
    try {
      for (const m of decoder.push(c)) decoded += m.raw.length;
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      return;
    }
    pushed += c.length;
    // Every byte accepted is either in a decoded message or held for the next one.
    expect(decoded + decoder.bufferedBytes).toBe(pushed);
    if (decoder.phase === 'awaiting-encryption-answer') decoder.encryptionAnswered(false);
  }
}

describe('FrontendDecoder under hostile input', () => {
  it('throws only ProtocolError for arbitrary bytes in arbitrary chunks, in either phase', () => {
    fc.assert(
      fc.property(
        fc
          .uint8Array({ maxLength: 200 })
          .chain((a) => fc.tuple(fc.constant(Buffer.from(a)), cutsFor(a.length))),
        fc.constantFrom('startup' as const, 'typed' as const),
        ([buf, cuts], phase) =>
          pushAll(new FrontendDecoder({ phase, maxMessageLength: 4096 }), chunk(buf, cuts)),
      ),
      { numRuns: 2000 },
    );
  });

  it('throws only ProtocolError for valid streams with flipped, inserted or deleted bytes', () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bits: fc.integer({ min: 1, max: 255 }) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.nat({ max: 255 }) }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
    );
    fc.assert(
      fc.property(stream, fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.nat(), (ms, muts, seed) => {
        const bytes = [...Buffer.concat(ms.map((m) => encodeFrontendMessage(m)))];
        for (const m of muts) {
          const at = m.at % (bytes.length + 1);
          if (m.kind === 'flip' && at < bytes.length) bytes[at]! ^= m.bits;
          else if (m.kind === 'insert') bytes.splice(at, 0, m.byte);
          else if (m.kind === 'delete') bytes.splice(at, 1);
        }
        const buf = Buffer.from(bytes);
        const cuts = [...new Set([seed % (buf.length + 1), (seed * 7) % (buf.length + 1)])]
          .filter((c) => c > 0 && c < buf.length)
          .sort((a, b) => a - b);
        pushAll(new FrontendDecoder(), chunk(buf, cuts));
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses a huge declared length at once under the default limit', () => {
    const d = new FrontendDecoder({ phase: 'typed' });
    expect(() => d.push(Buffer.from([0x64, 0x7f, 0xff, 0xff, 0xff]))).toThrow(ProtocolError);
  });

  it('streams 32 MiB into a 2 GiB declared message without hanging or over-allocating', () => {
    const d = new FrontendDecoder({ phase: 'typed', maxMessageLength: 0x7fffffff });
    d.push(Buffer.from([0x64, 0x7f, 0xff, 0xff, 0xff]));
    const piece = Buffer.alloc(64 * 1024);
    const before = process.memoryUsage().arrayBuffers;
    const started = performance.now();
    for (let i = 0; i < 512; i++) expect(d.push(piece)).toEqual([]);
    expect(d.bufferedBytes).toBe(5 + 512 * piece.length);
    // Geometric growth: at most about twice what was received is held, and appending stays linear.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(80 * 1024 * 1024);
    expect(performance.now() - started).toBeLessThan(5000);
  });
});
