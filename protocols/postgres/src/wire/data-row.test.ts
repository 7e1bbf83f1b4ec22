import { ProtocolError } from '@gatehouse/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeDataRow, readDataRow, rewriteDataRow } from './data-row.js';

describe('encodeDataRow', () => {
  it('writes the documented layout', () => {
    const b = encodeDataRow(['1', null, Buffer.from([0xff]), 'é']);
    expect(b.toString('hex')).toBe(
      ['44', '0000001a', '0004', '00000001', '31', 'ffffffff', '00000001', 'ff', '00000002', 'c3a9'].join(''),
    );
  });

  it('writes text as UTF-8 whatever its length or characters', () => {
    const cell = fc.option(
      fc.oneof(fc.string({ maxLength: 100 }), fc.string({ unit: 'binary', maxLength: 100 })),
      {
        nil: null,
      },
    );
    fc.assert(
      fc.property(fc.array(cell, { maxLength: 8 }), (cells) => {
        const asBytes = cells.map((c) => (c === null ? null : Buffer.from(c, 'utf8')));
        expect(encodeDataRow(cells).equals(encodeDataRow(asBytes))).toBe(true);
      }),
    );
  });

  it('writes an empty row', () => {
    expect(encodeDataRow([]).toString('hex')).toBe('44000000060000');
  });
});

describe('readDataRow', () => {
  it('round-trips arbitrary rows', () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.uint8Array({ maxLength: 40 }), { nil: null }), { maxLength: 20 }),
        (vals) => {
          const row = readDataRow(encodeDataRow(vals));
          expect(row.map((v) => (v === null ? null : [...v]))).toEqual(
            vals.map((v) => (v === null ? null : [...v])),
          );
        },
      ),
    );
  });

  it.each([
    ['another message type', Buffer.from('43000000060000', 'hex'), /not a DataRow/],
    ['a short buffer', Buffer.from('440000', 'hex'), /not a DataRow/],
    ['a wrong length word', Buffer.from('44000000070000', 'hex'), /length word says 7/],
    ['more columns than bytes', Buffer.from('440000000600ff', 'hex'), /255 columns cannot fit/],
    [
      'a value past the end',
      Buffer.from('440000000c0001000000053132', 'hex'),
      /column 1 declares 5 bytes, 2 left/,
    ],
    ['a negative value length', Buffer.from('440000000a0001fffffffe', 'hex'), /column 1 declares -2 bytes/],
    ['trailing bytes', Buffer.from('440000000b0001ffffffff00', 'hex'), /1 unexpected bytes/],
  ])('refuses %s', (_name, raw, pattern) => {
    expect(() => readDataRow(raw)).toThrow(ProtocolError);
    expect(() => readDataRow(raw)).toThrow(pattern);
  });

  it('throws only ProtocolError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (a) => {
        const raw = Buffer.concat([Buffer.from([0x44]), Buffer.from(a)]);
        try {
          readDataRow(raw);
        } catch (err) {
          expect(err).toBeInstanceOf(ProtocolError);
        }
      }),
    );
  });
});

describe('rewriteDataRow', () => {
  const raw = encodeDataRow(['alice', 'alice@example.com', null, '42']);

  it('returns the very same buffer when nothing changes', () => {
    expect(rewriteDataRow(raw, () => undefined)).toBe(raw);
    expect(rewriteDataRow(raw, (v) => v)).toBe(raw);
    // Equal bytes, as a masker that found nothing might return, also count as unchanged.
    expect(rewriteDataRow(raw, (v) => (v === null ? null : v.toString()))).toBe(raw);
    expect(rewriteDataRow(raw, (v) => (v === null ? null : Buffer.from(v)))).toBe(raw);
  });

  it('rebuilds every length prefix when a value changes length', () => {
    const out = rewriteDataRow(raw, (_v, i) => (i === 1 ? 'a****@example.com' : i === 0 ? 'al' : undefined));
    expect(readDataRow(out).map((v) => v?.toString() ?? null)).toEqual([
      'al',
      'a****@example.com',
      null,
      '42',
    ]);
    expect(out.readInt32BE(1)).toBe(out.length - 1);
  });

  it('turns values into NULL and NULL into values', () => {
    const out = rewriteDataRow(raw, (v, i) => (i === 0 ? null : i === 2 ? 'x' : v));
    expect(readDataRow(out).map((v) => v?.toString() ?? null)).toEqual([
      null,
      'alice@example.com',
      'x',
      '42',
    ]);
  });

  it('matches encodeDataRow of the rewritten values for arbitrary rows', () => {
    const cell = fc.option(fc.string({ maxLength: 20 }), { nil: null });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(cell, fc.option(cell, { nil: undefined })), { maxLength: 12 }),
        (cells) => {
          const before = encodeDataRow(cells.map(([b]) => b));
          const out = rewriteDataRow(before, (_v, i) => cells[i]![1]);
          const expected = encodeDataRow(cells.map(([b, a]) => (a === undefined ? b : a)));
          expect(out.equals(expected)).toBe(true);
          if (out.equals(before)) expect(out).toBe(before);
        },
      ),
    );
  });
});
