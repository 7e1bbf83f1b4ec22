import type { Identity } from '@gatehouse/core';
import { compilePolicy } from '@gatehouse/policy';
import { describe, expect, it } from 'vitest';
import { type DataRowValue, encodeDataRow } from '../wire/index.js';
import type { FieldInfo } from './column-plan.js';
import type { PrefilterOption } from './masking-policy.js';
import { createResultMasker } from './result-masker.js';

// Rows per second through RowMasker.maskDataRow for narrow typical rows. Run with GATEHOUSE_BENCH=1;
// skipped otherwise because timings are noise in CI.

const identity: Identity = { subject: 'agent-1', groups: [], issuer: 'test' };
const policy = compilePolicy({
  connections: [{ name: 'pg' }],
  masking: { rules: [{ name: 'pii', columns: ['email', 'ssn'] }] },
}).masker('pg', identity);

const f = (name: string, typeOID: number, format: 0 | 1): FieldInfo => ({
  name,
  typeOID,
  format,
  tableOID: 16400,
  columnAttr: 1,
  typeSize: -1,
  typeModifier: -1,
});

function int(n: number, size: 4 | 8): Buffer {
  const b = Buffer.alloc(size);
  if (size === 4) b.writeInt32BE(n);
  else b.writeBigInt64BE(BigInt(n));
  return b;
}

interface Scenario {
  readonly fields: FieldInfo[];
  readonly row: (i: number) => DataRowValue[];
}

const SCENARIOS: Record<string, Scenario> = {
  'text, nothing to mask': {
    fields: [
      f('id', 23, 0),
      f('name', 25, 0),
      f('status', 1043, 0),
      f('created', 1184, 0),
      f('amount', 1700, 0),
    ],
    row: (i) => [
      String(i * 7),
      `Customer number ${i}`,
      i % 3 ? 'shipped' : 'pending',
      '2024-03-01 12:30:45+00',
      `${i}.50`,
    ],
  },
  'binary, nothing to mask': {
    fields: [
      f('id', 23, 1),
      f('name', 25, 1),
      f('status', 1043, 1),
      f('created', 1184, 1),
      f('total', 20, 1),
    ],
    row: (i) => [
      int(i * 7, 4),
      Buffer.from(`Customer number ${i}`),
      Buffer.from('shipped'),
      Buffer.alloc(8),
      int(i * 1000, 8),
    ],
  },
  'text, one covered column': {
    fields: [
      f('id', 23, 0),
      f('name', 25, 0),
      f('email', 25, 0),
      f('created', 1184, 0),
      f('amount', 1700, 0),
    ],
    row: (i) => [String(i), `Customer ${i}`, `user${i}@example.com`, '2024-03-01 12:30:45+00', `${i}.50`],
  },
  'text, an email in free text': {
    fields: [
      f('id', 23, 0),
      f('note', 25, 0),
      f('status', 1043, 0),
      f('created', 1184, 0),
      f('amount', 1700, 0),
    ],
    row: (i) => [String(i), `reach me at user${i}@example.com`, 'open', '2024-03-01 12:30:45+00', `${i}.50`],
  },
};

function measure(prefilter: PrefilterOption, s: Scenario): number {
  const rows = Array.from({ length: 1000 }, (_, i) => encodeDataRow(s.row(i)));
  const rm = createResultMasker(policy, { prefilter }).startResult(s.fields);
  for (let k = 0; k < 100; k++) for (const r of rows) rm.maskDataRow(r);
  const total = 1_000_000;
  const started = performance.now();
  for (let k = 0; k < total / rows.length; k++) for (const r of rows) rm.maskDataRow(r);
  return total / ((performance.now() - started) / 1000);
}

describe('RowMasker throughput', () => {
  for (const [name, scenario] of Object.entries(SCENARIOS)) {
    it.each(['masker', 'none'] as const)(`${name}, prefilter %s`, (prefilter) => {
      const perSecond = measure(prefilter, scenario);
      console.log(`${name}, prefilter ${prefilter}: ${(perSecond / 1e6).toFixed(2)}M rows/s`);
      expect(perSecond).toBeGreaterThan(0);
    });
  }
});
