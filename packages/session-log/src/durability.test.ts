import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { EventType, LogWriteError, type StoredEvent } from '@gatehouse/core';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readAnchor } from './anchor.js';
import { openSessionLog, openSessionLogWithFaults, type SessionLog } from './session-log.js';
import { verifySessionLog } from './verify.js';
import { workerExecArgv } from './worker-script.js';

const dirs: string[] = [];
const logs: SessionLog[] = [];
afterEach(async () => {
  for (const log of logs.splice(0)) await log.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-log-durable-'));
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

describe('the event loop while the disk syncs', () => {
  it('keeps running timers and I/O during a slow flush', async () => {
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
    // A timer due long before the flush ends fires on time: the sync does not hold the loop.
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
    expect(delay.max / 1e6).toBeLessThan(SLOW_MS / 2);
    expect(errors).toEqual([]);
  });

  it('makes everything committed during a slow flush durable with the next one, in order', async () => {
    const flushes: number[] = [];
    const log = openSessionLogWithFaults({ path: tempPath() }, { onFlush: (n) => flushes.push(n) });
    logs.push(log);
    await log.append(command('s', 'warm up'));
    log.injectFault({ kind: 'slow', ms: 200 });
    const first = log.append(command('s', 'first'));
    // Appends made while the first flush is under way, over several event-loop turns: each turn
    // commits, none waits for a sync of its own.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const later: Promise<StoredEvent>[] = [];
    for (let turn = 0; turn < 5; turn++) {
      for (let i = 0; i < 10; i++) later.push(log.append(command(`s${i}`, `t${turn}-${i}`)));
      await new Promise((resolve) => setImmediate(resolve));
    }
    // They are committed already (visible to a reader), but not resolved: not yet durable.
    expect(count(log.path)).toBe(52);
    log.injectFault({ kind: 'none' });
    const order: number[] = [];
    const stored = await Promise.all(
      [first, ...later].map((p) =>
        p.then((e) => {
          order.push(e.seq);
          return e;
        }),
      ),
    );
    expect(stored.map((e) => e.seq)).toEqual(Array.from({ length: 51 }, (_, i) => i + 2));
    expect(order).toEqual(stored.map((e) => e.seq));
    expect(flushes).toEqual([1, 1, 50]);
  });

  it('with synchronous: normal, resolves at commit without syncing', async () => {
    const flushes: number[] = [];
    const log = openSessionLogWithFaults(
      { path: tempPath(), synchronous: 'normal' },
      { onFlush: (n) => flushes.push(n) },
    );
    logs.push(log);
    const stored = await Promise.all([1, 2, 3].map((n) => log.append(command('s', `q${n}`))));
    expect(stored.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(flushes).toEqual([]);
    await log.close();
    expect(verifySessionLog(log.path)).toMatchObject({ ok: true, events: 3, anchorSeq: 3 });
  });
});

describe('when the disk fails', () => {
  it('adopts a batch that reached the disk though its commit reported a failure', async () => {
    const log = openSessionLogWithFaults({ path: tempPath() }, {});
    logs.push(log);
    await log.append(command('s', 'one'));
    log.injectFault({ kind: 'lost-answer' });
    const lost = await Promise.allSettled([
      log.append(command('s', 'two')),
      log.append(command('s', 'three')),
    ]);
    expect(lost.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    // The callers were told they failed, but they are in the log: like a commit whose answer was lost.
    expect(count(log.path)).toBe(3);

    log.injectFault({ kind: 'none' });
    const next = await log.append(command('s', 'four'));
    expect(next.seq).toBe(4);
    await log.close();
    expect(verifySessionLog(log.path)).toMatchObject({ ok: true, events: 4, anchorSeq: 4 });
  });

  it('refuses everything after a failed sync, since the kernel may have dropped what it held', async () => {
    const errors: LogWriteError[] = [];
    const log = openSessionLogWithFaults({ path: tempPath(), onError: (err) => errors.push(err) }, {});
    logs.push(log);
    await log.append(command('s', 'one'));
    log.injectFault({ kind: 'sync-error' });
    const failed = await Promise.allSettled([1, 2].map((n) => log.append(command('s', `lost ${n}`))));
    const message =
      /^session log unavailable: the disk failed to sync it \(I\/O error\); committed events may be lost, restart the gateway once the disk is checked \(.*log\.db\)$/;
    for (const r of failed) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(LogWriteError);
      expect(((r as PromiseRejectedResult).reason as Error).message).toMatch(message);
    }
    log.injectFault({ kind: 'none' });
    await expect(log.append(command('s', 'later'))).rejects.toThrow(message);
    expect(log.health()).toMatchObject({ ok: false, error: expect.stringMatching(message) });
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(message)]);
  });
});

describe('checkpoints', () => {
  const output = (turn: number, i: number) => ({
    sessionId: 's',
    type: EventType.Output,
    data: { turn, i, chunk: 'x'.repeat(10_000) },
  });

  it('copies the WAL back into the database in the checkpointer thread', async () => {
    const copied: number[] = [];
    const log = openSessionLogWithFaults(
      { path: tempPath(), synchronous: 'normal' },
      { checkpoint: { walBytes: 256 * 1024, everyCommits: 4 }, onCheckpoint: (_frames, n) => copied.push(n) },
    );
    logs.push(log);
    for (let turn = 0; turn < 40; turn++) {
      await Promise.all(Array.from({ length: 4 }, (_, i) => log.append(output(turn, i))));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await vi.waitFor(() => expect(copied.some((n) => n > 0)).toBe(true), { timeout: 10_000 });
    expect(log.health().ok).toBe(true);
    await log.close();
    expect(verifySessionLog(log.path)).toMatchObject({ ok: true, events: 160 });
  });

  it('keeps the WAL bounded when commits never pause for the checkpointer to catch up', async () => {
    const log = openSessionLogWithFaults(
      { path: tempPath(), synchronous: 'normal' },
      { checkpoint: { walBytes: 256 * 1024, everyCommits: 4 } },
    );
    logs.push(log);
    // About 8 MB of events, one commit after the other.
    for (let turn = 0; turn < 200; turn++) {
      await Promise.all(Array.from({ length: 4 }, (_, i) => log.append(output(turn, i))));
    }
    // Checkpointed on the event loop past 16 × 256 KiB, so the WAL started over.
    expect(statSync(`${log.path}-wal`).size).toBeLessThan(6 * 1024 * 1024);
    expect(log.health().ok).toBe(true);
    await log.close();
    expect(verifySessionLog(log.path)).toMatchObject({ ok: true, events: 800 });
  });
});

describe('close', () => {
  it('commits everything appended before it, in order, while a flush is slow', async () => {
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

  it('joins the checkpointer thread: the process is left with nothing to wait for', async () => {
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
    // The checkpointer thread does not hold the process open, even when the log is never closed.
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
