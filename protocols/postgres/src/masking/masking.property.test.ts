import type { Identity } from '@gatehouse/core';
import { ProtocolError } from '@gatehouse/core';
import { compilePolicy } from '@gatehouse/policy';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { copyData, encodeDataRow, readDataRow } from '../wire/index.js';
import type { FieldInfo } from './column-plan.js';
import { maskJson } from './json-masking.js';
import { OPAQUE_LINEAGE } from './lineage-types.js';
import { createResultMasker } from './result-masker.js';
import { rewriteArrayLiteral, rewriteRecordLiteral } from './text-formats.js';

const identity: Identity = { subject: 'agent-1', groups: [], issuer: 'test' };
const policy = compilePolicy({
  connections: [{ name: 'pg' }],
  masking: { rules: [{ name: 'pii', columns: ['email', 'c1'], style: 'partial' }] },
}).masker('pg', identity);
const rm = createResultMasker(policy);

/** Types that exercise every path: text-like, JSON, numbers, bytea, arrays, records, safe, unknown. */
const TYPES = [
  25, 1043, 114, 3802, 20, 23, 1700, 701, 790, 17, 1009, 1016, 2249, 1082, 2950, 199, 3807, 99999, 0,
];

const fieldArb: fc.Arbitrary<FieldInfo> = fc.record({
  name: fc.constantFrom('email', 'c1', 'notes', '', 'x.y'),
  tableOID: fc.constantFrom(0, 16400),
  columnAttr: fc.integer({ min: 0, max: 5 }),
  typeOID: fc.constantFrom(...TYPES),
  typeSize: fc.constant(-1),
  typeModifier: fc.constant(-1),
  format: fc.constantFrom(0 as const, 1 as const),
});

/** Values that look like what each format carries, and plain noise. */
const SAMPLES = [
  'bob@example.com',
  '4111 1111 1111 1111',
  '{"email":"x","n":4111111111111111,"a":[1,"bob@example.com"]}',
  '{a,"b@example.com",NULL}',
  '(1,"bob@example.com",)',
  '\\x626f62406578616d706c652e636f6d',
  'SSN: 123-45-6789',
];
const valueArb: fc.Arbitrary<Buffer | null> = fc.oneof(
  fc.constant(null),
  fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
  fc.constantFrom(...SAMPLES).map((s) => Buffer.from(s)),
  fc.constantFrom(...SAMPLES).map((s) => Buffer.concat([Buffer.from([1]), Buffer.from(s)])),
  fc.string({ maxLength: 40 }).map((s) => Buffer.from(s)),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((n) => {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(n);
    return b;
  }),
);

describe('DataRow masking under arbitrary input', () => {
  it('only ever throws ProtocolError, and what it returns re-parses with the same column count', () => {
    fc.assert(
      fc.property(
        fc.array(fieldArb, { maxLength: 6 }),
        fc.array(valueArb, { maxLength: 8 }),
        fc.option(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }))),
        fc.boolean(),
        (fields, values, corrupt, opaque) => {
          const row = encodeDataRow(values);
          if (corrupt !== null) row[corrupt[0] % row.length] = corrupt[1];
          const masker = rm.startResult(fields, opaque ? OPAQUE_LINEAGE : undefined);
          let out: Buffer;
          try {
            out = masker.maskDataRow(row);
          } catch (err) {
            expect(err).toBeInstanceOf(ProtocolError);
            return;
          }
          // An inactive masker passes rows on without reading them.
          if (out === row && !masker.active) return;
          const before = readDataRow(row);
          const after = readDataRow(out);
          expect(after.length).toBe(before.length);
          // Masking never turns NULL into a value.
          before.forEach((v, i) => {
            if (v === null) expect(after[i]).toBeNull();
          });
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('also for results without a RowDescription', () => {
    fc.assert(
      fc.property(fc.array(valueArb, { maxLength: 8 }), (values) => {
        const out = rm.startResult(undefined).maskDataRow(encodeDataRow(values));
        expect(readDataRow(out).length).toBe(values.length);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('structured text stays parseable', () => {
  const masking = {
    path: 'doc',
    coverOf: (path: string) => (path.endsWith('.email') ? { column: 'email' } : null),
    mayDetect: () => true,
    // Unique replacements, so that masked keys cannot collide with existing ones.
    maskText: (t: string) => t.replace(/@/g, '\uE000'),
    maskWhole: () => '****',
  };

  it('JSON: masked output is JSON of the same shape', () => {
    fc.assert(
      fc.property(fc.json(), fc.boolean(), (json, whole) => {
        const out = maskJson(json, masking, whole ? { column: 'email' } : null);
        expect(out).not.toBeNull();
        const a: unknown = JSON.parse(json);
        const b: unknown = JSON.parse(out as string);
        expect(shape(b)).toEqual(shape(a));
      }),
      { numRuns: 2000 },
    );
  });

  it('JSON: garbage is refused, never thrown on', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), (s) => {
        const out = maskJson(s, masking, null);
        let valid = true;
        try {
          JSON.parse(s);
        } catch {
          valid = false;
        }
        expect(out !== null).toBe(valid);
      }),
      { numRuns: 3000 },
    );
  });

  it('arrays and records: rewriting every element keeps the element count', () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.string({ maxLength: 12 })), { minLength: 1, maxLength: 6 }),
        (elements) => {
          const arrayText = `{${elements.map((e) => (e === null ? 'NULL' : `"${e.replace(/[\\"]/g, '\\$&')}"`)).join(',')}}`;
          const recordText = `(${elements.map((e) => (e === null ? '' : `"${e.replace(/["\\]/g, '$&$&')}"`)).join(',')})`;
          const collect = (into: (string | null)[]) => (v: string | null) => {
            into.push(v);
            return undefined;
          };
          const seen: (string | null)[] = [];
          expect(rewriteArrayLiteral(arrayText, collect(seen))).toBe(arrayText);
          expect(seen).toEqual(elements);
          const masked = rewriteArrayLiteral(arrayText, (v) => (v === null ? undefined : `<${v}>`)) as string;
          const again: (string | null)[] = [];
          rewriteArrayLiteral(masked, collect(again));
          expect(again).toEqual(elements.map((e) => (e === null ? null : `<${e}>`)));
          const fields: (string | null)[] = [];
          rewriteRecordLiteral(recordText, collect(fields));
          expect(fields).toEqual(elements);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('COPY under arbitrary splits', () => {
  it('text and CSV rows give the same output in any chunking', () => {
    const cell = fc.oneof(
      fc.constant(null),
      fc.string({ maxLength: 10 }),
      fc.constantFrom('bob@example.com', 'a\tb', 'x\ny', '"q"', ','),
    );
    fc.assert(
      fc.property(
        fc.array(fc.array(cell, { minLength: 2, maxLength: 2 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.boolean(),
        (rows, cuts, csv) => {
          const data = Buffer.from(
            rows.map((r) => `${r.map((c) => encodeCell(c, csv)).join(csv ? ',' : '\t')}\n`).join(''),
          );
          const options = csv
            ? { format: 'csv' as const, delimiter: ',', null: '', quote: '"', escape: '"', header: false }
            : undefined;
          const go = (chunks: Buffer[]): Buffer => {
            const state = rm.startCopy({ format: 0, options }, { names: ['email', 'notes'] });
            const out: Buffer[] = [];
            for (const c of chunks) {
              const m = state.maskCopyData(copyData(c));
              if (m !== undefined) out.push(m.subarray(5));
            }
            const rest = state.finish();
            if (rest !== undefined) out.push(rest.subarray(5));
            return Buffer.concat(out);
          };
          const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
          const chunks: Buffer[] = [];
          let prev = 0;
          for (const p of points) {
            chunks.push(data.subarray(prev, p));
            prev = p;
          }
          chunks.push(data.subarray(prev));
          expect(go(chunks)).toEqual(go([data]));
        },
      ),
      { numRuns: 1000 },
    );
  });
});

function encodeCell(c: string | null, csv: boolean): string {
  if (csv) return c === null ? '' : `"${c.replace(/"/g, '""')}"`;
  if (c === null) return '\\N';
  return c.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n');
}

function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(shape);
  if (v !== null && typeof v === 'object') return Object.keys(v).length;
  return v === null || typeof v === 'boolean' ? v : 'scalar';
}
