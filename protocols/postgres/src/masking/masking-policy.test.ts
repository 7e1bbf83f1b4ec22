import type { Identity, Masker } from '@gatehouse/core';
import { compilePolicy } from '@gatehouse/policy';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeDataRow, readDataRow } from '../wire/index.js';
import { binaryIntAscii, binaryIntText } from './binary-formats.js';
import type { FieldInfo } from './column-plan.js';
import { MaskingPolicyView } from './masking-policy.js';
import { createResultMasker } from './result-masker.js';

const identity: Identity = { subject: 'agent-1', groups: [], issuer: 'test' };
const policy = compilePolicy({
  connections: [{ name: 'pg' }],
  masking: { rules: [{ name: 'pii', columns: ['email'] }] },
}).masker('pg', identity);

const field = (name: string, typeOID: number, format: 0 | 1 = 0): FieldInfo => ({
  name,
  typeOID,
  format,
  tableOID: 0,
  columnAttr: 0,
  typeSize: -1,
  typeModifier: -1,
});

describe('MaskingPolicyView', () => {
  it('takes coverage, rules, detectors and the prefilter from the policy masker', () => {
    const view = new MaskingPolicyView(policy, undefined);
    expect(view.hasColumnRules).toBe(true);
    expect(view.hasDetectors).toBe(true);
    expect(view.coversColumn('email')).toBe(true);
    expect(view.coversColumn('users.email')).toBe(true);
    expect(view.coversColumn('name')).toBe(false);
    expect(view.mayDetectText('shipped')).toBe(false);
    expect(view.mayDetectText('bob@example.com')).toBe(true);
    expect(view.mayDetectText('«bob@example.com»')).toBe(true);
    expect(new MaskingPolicyView(policy, 'none').mayDetectText('shipped')).toBe(true);
  });

  it('assumes the worst of a masker that does not answer: over-masks, never leaks', () => {
    const bare: Masker = { maskText: (t) => policy.maskText(t), maskValue: (c, t) => policy.maskValue(c, t) };
    const view = new MaskingPolicyView(bare, undefined);
    expect(view.hasColumnRules).toBe(true);
    expect(view.hasDetectors).toBe(true);
    expect(view.coversColumn('name')).toBe(true);
    expect(view.mayDetectText('shipped')).toBe(true);
    const rows = createResultMasker(bare).startResult([field('email', 25), field('id', 23)]);
    expect(readDataRow(rows.maskDataRow(encodeDataRow(['bob@example.com', '1'])))).toEqual([
      Buffer.from('****'),
      null,
    ]);
  });

  it('never probes maskValue to learn coverage', () => {
    let calls = 0;
    const counting: Masker = {
      ...policy,
      maskValue: (c, t) => {
        calls++;
        return policy.maskValue(c, t);
      },
    };
    const rows = createResultMasker(counting).startResult([field('name', 25), field('email', 25)]);
    rows.maskDataRow(encodeDataRow(['Bob', 'bob@example.com']));
    expect(calls).toBe(1);
  });
});

describe('binaryIntAscii', () => {
  it('writes the same text as binaryIntText', () => {
    const out = new Uint8Array(24);
    const check = (b: Buffer): void => {
      const n = binaryIntAscii(b, 0, b.length, out);
      if (n >= 0)
        expect(Buffer.from(out.subarray(0, n)).toString('latin1')).toBe(binaryIntText(b, 0, b.length));
    };
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.integer(), (big, small) => {
        const b8 = Buffer.alloc(8);
        b8.writeBigInt64BE(big);
        check(b8);
        const b4 = Buffer.alloc(4);
        b4.writeInt32BE(small | 0);
        check(b4);
        const b2 = Buffer.alloc(2);
        b2.writeInt16BE((small << 16) >> 16);
        check(b2);
      }),
    );
    for (const v of [0n, -1n, 2n ** 53n - 1n, -(2n ** 53n), 9007199254740993n]) {
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(v);
      check(b);
    }
  });
});
