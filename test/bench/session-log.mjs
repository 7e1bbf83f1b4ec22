// Session log throughput: committed events/s in strict mode with 1, 8 and 64 concurrent writers,
// next to plain single-row autocommit inserts into the same table shape at the same synchronous
// level, measured in the same run; and, for the same runs, the latency under load (append →
// resolve), the main thread's busy time per event and how late the event loop ran while writers
// appended. Run after `pnpm build`: `node test/bench/session-log.mjs`.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { openSessionLog } from '../../packages/session-log/dist/index.js';

// better-sqlite3 is a dependency of the session-log package, not of the test package.
const require = createRequire(new URL('../../packages/session-log/package.json', import.meta.url));
const Database = require('better-sqlite3');

const WRITERS = [1, 8, 64];
const MODES = ['full', 'normal'];
const LOOP_SAMPLE_MS = 1;

/** A realistic command event: about 300 bytes of canonical JSON. */
function commandEvent(sessionId, n) {
  return {
    sessionId,
    type: 'command',
    data: {
      kind: 'query',
      text: `SELECT o.id, o.total, c.email FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id > ${n} ORDER BY o.created_at DESC LIMIT 50`,
      attributes: { statements: ['select'], tables: ['public.orders', 'public.customers'], extended: false },
    },
  };
}

function percentile(sorted, p) {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

/**
 * `writers` sessions each loop `await log.append(...)`. Besides the rate: every append's latency,
 * the event loop's busy share (so the main thread's busy time per event: preparing, handing over,
 * resolving — and, if commits ran on it, the commits), and how late a timer due every millisecond
 * fired: a commit that blocked the loop makes it late by about the commit's duration.
 */
async function measureLog(dir, synchronous, writers, budgetMs) {
  const path = join(dir, `log-${synchronous}-${writers}.db`);
  const log = openSessionLog({ path, synchronous, strict: true });
  // The writer thread starts in the background; measure the running log.
  await log.append(commandEvent(randomUUID(), 0));
  const sessions = Array.from({ length: writers }, () => randomUUID());
  const latencies = [];
  const delay = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
  delay.enable();
  const busyBefore = performance.eventLoopUtilization();
  const started = performance.now();
  const deadline = started + budgetMs;
  await Promise.all(
    sessions.map(async (sessionId) => {
      let n = 0;
      while (performance.now() < deadline) {
        const t = performance.now();
        await log.append(commandEvent(sessionId, n++));
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const busy = performance.eventLoopUtilization(busyBefore);
  delay.disable();
  await log.close();
  latencies.sort((a, b) => a - b);
  return {
    eventsPerSec: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    mainBusyUsPerEvent: (busy.active * 1000) / latencies.length,
    // The histogram holds the intervals between the timer's runs; the lateness is what exceeds one.
    loopDelayP99Ms: Math.max(0, delay.percentile(99) / 1e6 - LOOP_SAMPLE_MS),
    loopDelayMaxMs: Math.max(0, delay.max / 1e6 - LOOP_SAMPLE_MS),
  };
}

/**
 * The baseline: the events table with its live index, one autocommit INSERT per event, no hashing,
 * no anchor. (The log's per-session index is filled in bulk, so it has no per-row counterpart.)
 */
function measurePlainInserts(dir, synchronous, budgetMs) {
  const db = new Database(join(dir, `plain-${synchronous}.db`));
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.exec(`CREATE TABLE events (seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL, session_id TEXT NOT NULL,
    type TEXT NOT NULL, data TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
    CREATE INDEX events_by_type ON events (type);`);
  const insert = db.prepare(
    'INSERT INTO events (seq, ts, session_id, type, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const sessionId = randomUUID();
  const zeros = '0'.repeat(64);
  let n = 0;
  const started = performance.now();
  const deadline = started + budgetMs;
  while (performance.now() < deadline) {
    n++;
    const e = commandEvent(sessionId, n);
    insert.run(n, Date.now(), sessionId, e.type, JSON.stringify(e.data), zeros, zeros);
  }
  const rate = n / ((performance.now() - started) / 1000);
  db.close();
  return rate;
}

/** Runs the whole benchmark; `budgetMs` is the time given to each measurement. */
export async function run({ budgetMs = 500 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-log-'));
  try {
    await measureLog(dir, 'full', 8, 100); // warm-up: JIT, page cache
    const results = [];
    for (const synchronous of MODES) {
      const plainInsertsPerSec = measurePlainInserts(dir, synchronous, budgetMs);
      const writers = {};
      for (const w of WRITERS) writers[w] = await measureLog(dir, synchronous, w, budgetMs);
      results.push({ synchronous, plainInsertsPerSec, writers });
    }
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function toMarkdown(results) {
  const fmt = (n) => Math.round(n).toLocaleString('en-US');
  const ms = (n) => n.toFixed(2);
  const lines = [
    '| synchronous | single-row inserts/s | 1 writer | 8 writers | 64 writers | 64 writers ÷ inserts |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    const ratio = r.writers[64].eventsPerSec / r.plainInsertsPerSec;
    lines.push(
      `| ${r.synchronous} | ${fmt(r.plainInsertsPerSec)} | ${fmt(r.writers[1].eventsPerSec)} | ${fmt(r.writers[8].eventsPerSec)} | ${fmt(r.writers[64].eventsPerSec)} | ${ratio.toFixed(1)}× |`,
    );
  }
  lines.push(
    '',
    '| synchronous | writers | append → resolve p50 (ms) | p99 (ms) | main thread busy per event (µs) | event-loop lateness p99 (ms) | max (ms) |',
    '|---|---:|---:|---:|---:|---:|---:|',
  );
  for (const r of results) {
    for (const w of WRITERS) {
      const m = r.writers[w];
      lines.push(
        `| ${r.synchronous} | ${w} | ${ms(m.p50Ms)} | ${ms(m.p99Ms)} | ${m.mainBusyUsPerEvent.toFixed(1)} | ${ms(m.loopDelayP99Ms)} | ${ms(m.loopDelayMaxMs)} |`,
      );
    }
  }
  return lines.join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = await run();
  console.log('Session log: committed events/s (strict mode, ~300-byte command events)\n');
  console.log(toMarkdown(results));
}
