import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventType, LogWriteError } from '@gatehouse/core';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { eventHash } from './chain.js';
import { openSessionLog, openSessionLogWithFaults, type SessionLog } from './session-log.js';
import { verifySessionLog } from './verify.js';

const dirs: string[] = [];
const logs: SessionLog[] = [];
afterEach(async () => {
  for (const log of logs.splice(0)) await log.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-log-faults-'));
  dirs.push(dir);
  return join(dir, 'log.db');
}

const big = (sessionId: string, n: number) => ({
  sessionId,
  type: EventType.Output,
  data: { n, chunk: 'x'.repeat(20_000 + n) },
});

/**
 * A log whose writer thread can be switched into a real failing state: SQLite's own max_page_count
 * (SQLITE_FULL, what a full disk gives) and query_only (SQLITE_READONLY), or a thrown I/O error.
 */
function faultyLog(path = tempPath(), onError?: (err: LogWriteError) => void) {
  const log = openSessionLogWithFaults({ path, ...(onError === undefined ? {} : { onError }) }, {});
  logs.push(log);
  return log;
}

describe('when the log cannot be written', () => {
  it.each([
    ['full', 'disk full'],
    ['readonly', 'read-only'],
    ['ioerr', 'I/O error'],
  ] as const)(
    '%s: rejects the whole batch naming the cause, then recovers by itself',
    async (fault, cause) => {
      const errors: LogWriteError[] = [];
      const log = faultyLog(undefined, (err) => errors.push(err));
      const first = await log.append(big('s', 0));

      log.injectFault({ kind: fault });
      const results = await Promise.allSettled([1, 2, 3].map((n) => log.append(big('s', n))));
      const message = `session log unavailable: ${cause} (${log.path})`;
      for (const r of results) {
        expect(r.status).toBe('rejected');
        const err = (r as PromiseRejectedResult).reason as LogWriteError;
        expect(err).toBeInstanceOf(LogWriteError);
        expect(err.code).toBe('log_unavailable');
        expect(err.message).toBe(message);
      }
      expect(errors.map((e) => e.message)).toEqual([message]);
      expect(log.health()).toMatchObject({ ok: false, error: message });
      // Retried appends keep failing while the cause lasts.
      await expect(log.append(big('s', 4))).rejects.toThrow(message);

      log.injectFault({ kind: 'none' });
      const next = await log.append(big('s', 5));
      // Nothing of the failed batches reached the chain.
      expect(next.seq).toBe(2);
      expect(next.prevHash).toBe(first.hash);
      expect(log.health().ok).toBe(true);
      await log.close();
      expect(verifySessionLog(log.path)).toMatchObject({ ok: true, events: 2 });
    },
  );

  it('refuses to chain onto events another process wrote', async () => {
    const log = faultyLog();
    const first = await log.append(big('s', 0));
    const other = new Database(log.path);
    const data = '{"by":"someone else"}';
    other
      .prepare(
        'INSERT INTO events (seq, ts, session_id, type, data, prev_hash, hash) VALUES (2, 1, ?, ?, ?, ?, ?)',
      )
      .run('x', 'note', data, first.hash, eventHash(2, 1, 'x', 'note', data, first.hash));
    other.close();

    await expect(log.append(big('s', 1))).rejects.toThrow(/write refused by the database.*another gateway/);
    await expect(log.append(big('s', 2))).rejects.toThrow(
      /changed by another process \(expected event 1, found 2\)/,
    );
    expect(log.health().ok).toBe(false);
  });

  it('retries a failed anchor write when closing', async () => {
    const log = openSessionLog({ path: tempPath() });
    logs.push(log);
    mkdirSync(`${log.path}.anchor.tmp`);
    await log.append(big('s', 0));
    await vi.waitFor(() => expect(log.health().ok).toBe(false));
    rmSync(`${log.path}.anchor.tmp`, { recursive: true });
    await log.close();
    expect(verifySessionLog(log.path)).toMatchObject({ ok: true, anchorSeq: 1 });
  });

  it('keeps committing when the anchor cannot be written, reports it, and clears when it can', async () => {
    const errors: LogWriteError[] = [];
    const log = openSessionLog({ path: tempPath(), onError: (err) => errors.push(err) });
    logs.push(log);
    // A directory where the anchor's temporary file goes: a real failure to create it.
    mkdirSync(`${log.path}.anchor.tmp`);
    await expect(log.append(big('s', 0))).resolves.toMatchObject({ seq: 1 });
    await vi.waitFor(() => expect(log.health().ok).toBe(false));
    expect(log.health().error).toMatch(
      /^anchor not updated, so removing the newest events would go unnoticed/,
    );
    expect(errors).toHaveLength(1);

    rmSync(`${log.path}.anchor.tmp`, { recursive: true });
    await log.append(big('s', 1));
    await vi.waitFor(() => expect(log.health().ok).toBe(true));
    await log.close();
    expect(verifySessionLog(log.path)).toMatchObject({ ok: true, events: 2, anchorSeq: 2 });
  });
});

/** A real full file system, when this process may mount one (root in CI); skipped otherwise. */
function mountTmpfs(dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('on a real full disk', () => {
  it('refuses events while the disk is full and resumes once space is freed', async (ctx) => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-log-tmpfs-'));
    dirs.push(dir);
    if (!mountTmpfs(dir, '4m')) {
      ctx.skip('cannot mount a tmpfs here');
      return;
    }
    const path = join(dir, 'log.db');
    try {
      const log = openSessionLog({ path });
      try {
        await log.append(big('s', 0));
        try {
          writeFileSync(join(dir, 'filler'), Buffer.alloc(8 * 1024 * 1024));
        } catch {
          // ENOSPC: the file system is now as full as it gets.
        }
        let failure: unknown;
        for (let n = 1; n < 400 && failure === undefined; n++) {
          await log.append(big('s', n)).catch((err: unknown) => {
            failure = err;
          });
        }
        expect(failure).toBeInstanceOf(LogWriteError);
        expect((failure as Error).message).toBe(`session log unavailable: disk full (${path})`);
        expect(log.health().ok).toBe(false);

        rmSync(join(dir, 'filler'));
        await expect(log.append(big('s', 1000))).resolves.toMatchObject({ sessionId: 's' });
        await vi.waitFor(() => expect(log.health().ok).toBe(true));
      } finally {
        await log.close();
      }
      expect(verifySessionLog(path)).toMatchObject({ ok: true });
    } finally {
      execFileSync('umount', [dir]);
    }
  });
});
