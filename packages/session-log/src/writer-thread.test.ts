import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { EventType, LogWriteError, type StoredEvent } from '@gatehouse/core';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readAnchor } from './anchor.js';
import { eventHash } from './chain.js';
import { openSessionLog, openSessionLogWithFaults, type SessionLog } from './session-log.js';
import { verifySessionLog } from './verify.js';
import { workerExecArgv } from './writer-script.js';

const dirs: string[] = [];
const logs: SessionLog[] = [];
afterEach(async () => {
  for (const log of logs.splice(0)) await log.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-log-thread-'));
  dirs.push(dir);
  return join(dir, 'log.db');
}

const command = (sessionId: string, text: string) => ({
  sessionId,
  type: EventType.Command,
  data: { kind: 'query', text },
});

function count(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT count(*) FROM events').pluck().get() as number;
  } finally {
    db.close();
  }
}

describe('the event loop while the writer commits', () => {
  it('keeps running timers and I/O during a slow commit', async () => {
    const errors: LogWriteError[] = [];
    const log = openSessionLogWithFaults({ path: tempPath(), onError: (err) => errors.push(err) }, {});
    logs.push(log);
    await log.append(command('s', 'warm up'));
    const SLOW_MS = 400;
    log.injectFault({ kind: 'slow', ms: SLOW_MS });
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    const started = performance.now();
    let committedAt = 0;
    const appended = log.append(command('s', 'slow')).then((e) => {
      committedAt = performance.now();
      return e;
    });
    // A timer due long before the commit ends fires on time: the commit does not hold the loop.
    const timerAt = await new Promise<number>((resolve) => setTimeout(() => resolve(performance.now()), 20));
    let ticks = 0;
    const ticking = setInterval(() => ticks++, 10);
    const stored = await appended;
    clearInterval(ticking);
    delay.disable();

    expect(stored.seq).toBe(2);
    expect(committedAt - started).toBeGreaterThanOrEqual(SLOW_MS - 5);
    expect(timerAt).toBeLessThan(committedAt);
    expect(timerAt - started).toBeLessThan(SLOW_MS / 2);
    expect(ticks).toBeGreaterThanOrEqual(10);
    // Before the writer had its own thread, the loop stood still for the whole commit.
    expect(delay.max / 1e6).toBeLessThan(SLOW_MS / 2);
    expect(errors).toEqual([]);
  });

  it('keeps batching while a commit is slow: what arrives meanwhile is one batch', async () => {
    const batches: number[] = [];
    const log = openSessionLogWithFaults({ path: tempPath() }, { onBatch: (n) => batches.push(n) });
    logs.push(log);
    await log.append(command('s', 'warm up'));
    log.injectFault({ kind: 'slow', ms: 200 });
    const first = log.append(command('s', 'first'));
    // Appends made while the writer sits in the slow commit, over several event-loop turns.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const later: Promise<StoredEvent>[] = [];
    for (let turn = 0; turn < 5; turn++) {
      for (let i = 0; i < 10; i++) later.push(log.append(command(`s${i}`, `t${turn}-${i}`)));
      await new Promise((resolve) => setImmediate(resolve));
    }
    log.injectFault({ kind: 'none' });
    const stored = await Promise.all([first, ...later]);
    expect(stored.map((e) => e.seq)).toEqual(Array.from({ length: 51 }, (_, i) => i + 2));
    expect(batches).toEqual([1, 1, 50]);
  });
});

describe('when the writer thread stops', () => {
  it('fails what it held, refuses appends until a new writer is ready, then continues the chain', async () => {
    const errors: LogWriteError[] = [];
    const log = openSessionLogWithFaults({ path: tempPath(), onError: (err) => errors.push(err) }, {});
    logs.push(log);
    const first = await log.append(command('s', 'one'));

    log.injectFault({ kind: 'crash-before-commit' });
    const results = await Promise.allSettled([1, 2, 3].map((n) => log.append(command('s', `lost ${n}`))));
    for (const r of results) {
      expect(r.status).toBe('rejected');
      const err = (r as PromiseRejectedResult).reason as LogWriteError;
      expect(err).toBeInstanceOf(LogWriteError);
      expect(err.code).toBe('log_unavailable');
      expect(err.message).toMatch(
        /^session log unavailable: the writer thread stopped \(simulated writer crash before a commit, exit code 1\) \(.*log\.db\)$/,
      );
    }
    // Until the replacement has checked the database, appends are refused at once.
    await expect(log.append(command('s', 'meanwhile'))).rejects.toThrow(/the writer thread stopped/);
    expect(log.health()).toMatchObject({ ok: false, error: expect.stringMatching(/writer thread stopped/) });
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/writer thread stopped/)]);

    await vi.waitFor(() => expect(log.health().ok).toBe(true));
    const next = await log.append(command('s', 'two'));
    expect(next.seq).toBe(2);
    expect(next.prevHash).toBe(first.hash);
    await log.close();
    expect(verifySessionLog(log.path)).toMatchObject({ ok: true, events: 2 });
  });

  it('adopts a batch that reached the disk before the writer stopped', async () => {
    const log = openSessionLogWithFaults({ path: tempPath() }, {});
    logs.push(log);
    await log.append(command('s', 'one'));
    log.injectFault({ kind: 'crash-after-commit' });
    const lost = await Promise.allSettled([
      log.append(command('s', 'two')),
      log.append(command('s', 'three')),
    ]);
    expect(lost.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    // The caller was told they failed, but they are in the log: like a commit whose answer was lost.
    expect(count(log.path)).toBe(3);

    await vi.waitFor(() => expect(log.health().ok).toBe(true));
    const next = await log.append(command('s', 'four'));
    expect(next.seq).toBe(4);
    await log.close();
    expect(verifySessionLog(log.path)).toMatchObject({ ok: true, events: 4, anchorSeq: 4 });
  });

  it('does not chain onto events another process wrote, even valid links, when the writer restarts', async () => {
    const errors: LogWriteError[] = [];
    const log = openSessionLogWithFaults({ path: tempPath(), onError: (err) => errors.push(err) }, {});
    logs.push(log);
    const first = await log.append(command('s', 'one'));
    // A correctly chained row, as if it were the event the writer is about to lose.
    const data = '{"by":"someone else"}';
    const other = new Database(log.path);
    other
      .prepare(
        'INSERT INTO events (seq, ts, session_id, type, data, prev_hash, hash) VALUES (2, 1, ?, ?, ?, ?, ?)',
      )
      .run('s', 'note', data, first.hash, eventHash(2, 1, 's', 'note', data, first.hash));
    other.close();
    log.injectFault({ kind: 'crash-before-commit' });
    await expect(log.append(command('s', 'lost'))).rejects.toThrow(/writer thread stopped/);

    const refused =
      /^session log unavailable: it was changed by another process \(expected event 1, found 2\)/;
    await vi.waitFor(() => expect(log.health().error).toMatch(refused));
    await expect(log.append(command('s', 'refused'))).rejects.toThrow(refused);
    expect(errors.map((e) => e.message)).toContainEqual(expect.stringMatching(refused));
    expect(count(log.path)).toBe(2);
  });
});

describe('close', () => {
  it('commits everything appended before it, in order, while the writer is busy', async () => {
    const batches: number[] = [];
    const log = openSessionLogWithFaults(
      { path: tempPath(), maxBatch: 64 },
      { onBatch: (n) => batches.push(n) },
    );
    await log.append(command('s', 'warm up'));
    log.injectFault({ kind: 'slow', ms: 100 });
    const pending = Array.from({ length: 300 }, (_, i) => log.append(command(`s${i % 5}`, `q${i}`)));
    const closing = log.close();
    // Refused from the moment close is called, while the queued ones still commit.
    await expect(log.append(command('s', 'late'))).rejects.toThrow(/session log is closed/);
    await closing;
    const stored = await Promise.all(pending);
    expect(stored.map((e) => e.seq)).toEqual(Array.from({ length: 300 }, (_, i) => i + 2));
    expect(batches.slice(1).every((n) => n <= 64)).toBe(true);
    expect(count(log.path)).toBe(301);
    expect(readAnchor(`${log.path}.anchor`)).toMatchObject({ seq: 301, hash: stored.at(-1)?.hash });
    expect(verifySessionLog(log.path)).toMatchObject({ ok: true, events: 301, anchorSeq: 301 });
  });

  it('joins the writer thread: the process is left with nothing to wait for', async () => {
    const log = openSessionLog({ path: tempPath() });
    await log.append(command('s', 'one'));
    await log.close();
    await log.close();
    const handles = (process as unknown as { getActiveResourcesInfo(): string[] }).getActiveResourcesInfo();
    expect(handles.filter((h) => /worker|MessagePort/i.test(h))).toEqual([]);
  });

  it('keeps a process alive while it waits for the log, and no longer', () => {
    const path = tempPath();
    const index = pathToFileURL(join(import.meta.dirname, '../dist/index.js')).href;
    const script = (body: string) =>
      execFileSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `import { openSessionLog } from ${JSON.stringify(index)};
           const log = openSessionLog({ path: ${JSON.stringify(path)} });
           ${body}`,
        ],
        { encoding: 'utf8', timeout: 20_000 },
      );
    // Top-level awaits on the log settle (an empty event loop would exit with code 13 first).
    expect(
      script(`await log.append({ sessionId: 's', type: 'note', data: {} });
              await new Promise((resolve) => setTimeout(resolve, 100));
              await log.close();
              console.log('closed');`),
    ).toBe('closed\n');
    // An idle writer thread does not hold the process open, even when the log is never closed.
    expect(
      script(`const e = await log.append({ sessionId: 's', type: 'note', data: {} });
              console.log(e.seq);`),
    ).toBe('2\n');
    expect(count(path)).toBe(2);
  });
});

describe('workerExecArgv', () => {
  it('passes the process options on, except how its entry point was given and, from sources, conditions', () => {
    const args = ['--input-type=module', '-e', 'code', '--max-old-space-size=100', '--conditions', 'source'];
    expect(workerExecArgv(args, false)).toEqual(['--max-old-space-size=100', '--conditions', 'source']);
    expect(workerExecArgv(args, true)).toEqual(['--max-old-space-size=100']);
    expect(workerExecArgv(['--input-type', 'module', '-p', 'x', '-C=dev', '--import', 'tsx'], true)).toEqual([
      '--import',
      'tsx',
    ]);
  });
});
