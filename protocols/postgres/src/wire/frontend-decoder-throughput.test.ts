import { describe, expect, it } from 'vitest';
import { FrontendDecoder } from './frontend-decoder.js';
import { encodeFrontendMessage } from './frontend-encoder.js';

// Decode throughput on the traffic of `pgbench -S -M extended`: per transaction Parse (unnamed),
// Bind with one text parameter, Describe portal, Execute, Sync; the bytes match a capture of real
// pgbench. Run with GATEHOUSE_BENCH=1; skipped otherwise because timings are noise in CI.

function pgbenchTraffic(transactions: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < transactions; i++) {
    const aid = String(1 + ((i * 7919) % 100_000));
    parts.push(
      encodeFrontendMessage({
        type: 'Parse',
        statement: '',
        query: 'SELECT abalance FROM pgbench_accounts WHERE aid = $1;',
        paramTypes: [],
      }),
      encodeFrontendMessage({
        type: 'Bind',
        portal: '',
        statement: '',
        paramFormats: [],
        params: [Buffer.from(aid)],
        resultFormats: [],
      }),
      encodeFrontendMessage({ type: 'Describe', target: 'portal', name: '' }),
      encodeFrontendMessage({ type: 'Execute', portal: '', maxRows: 0 }),
      encodeFrontendMessage({ type: 'Sync' }),
    );
  }
  return Buffer.concat(parts);
}

function chunked(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}

describe('FrontendDecoder throughput', () => {
  const traffic = pgbenchTraffic(50_000);

  it.each([65_536, 16_384, 1_024])('pgbench extended traffic in %i-byte chunks', (size) => {
    const chunks = chunked(traffic, size);
    const run = (): number => {
      const d = new FrontendDecoder({ phase: 'typed' });
      let n = 0;
      for (const c of chunks) n += d.push(c).length;
      return n;
    };
    for (let i = 0; i < 3; i++) expect(run()).toBe(250_000);
    const rounds = 10;
    const started = performance.now();
    for (let i = 0; i < rounds; i++) run();
    const seconds = (performance.now() - started) / 1000;
    const perSecond = (rounds * 250_000) / seconds;
    const mib = (rounds * traffic.length) / seconds / 2 ** 20;
    console.log(`${size}-byte chunks: ${(perSecond / 1e6).toFixed(2)}M messages/s, ${mib.toFixed(0)} MiB/s`);
  });
});
