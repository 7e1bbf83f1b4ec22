/**
 * The session log's disk fills up while a PostgreSQL client is working through a `gatehouse start`
 * process: the data directory sits on a small tmpfs, and a filler file takes every free byte.
 * Strict mode refuses statements with an error naming the cause, the gateway keeps running and says
 * so on /healthz, and once space is back the next statement goes through without a restart.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { openSessionLogReader } from '@gatehouse/session-log';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PgCluster, startPostgres } from '../fixtures/postgres.js';
import { type CliProcess, runCli, tempDir } from '../support/cli.js';
import { CLI_ENV, issueToken, pgClient, pgError, startPgCli, waitUntil, writePgConfig } from './support.js';

let cluster: PgCluster;
let dir: string;
let mountPoint: string;
let mounted = false;

beforeAll(async () => {
  cluster = await startPostgres();
  dir = tempDir('gatehouse-diskfull-');
  mountPoint = join(dir, 'disk');
  mkdirSync(mountPoint);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mountPoint]);
  mounted = true;
}, 120_000);

afterAll(async () => {
  if (mounted) execFileSync('umount', ['-l', mountPoint]);
  rmSync(dir, { recursive: true, force: true });
  await cluster?.stop();
});

/** Writes zeros into `path` until the file system has no byte left. */
function fillDisk(path: string): number {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  let written = 0;
  try {
    for (;;) {
      try {
        written += writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
        // Top off the last partial block.
        for (let size = 32 * 1024; size >= 512; size /= 2) {
          try {
            written += writeSync(fd, chunk.subarray(0, size));
          } catch {
            // smaller next
          }
        }
        return written;
      }
    }
  } finally {
    closeSync(fd);
  }
}

async function health(adminPort: number): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${adminPort}/healthz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('session log on a full disk', () => {
  it('refuses statements naming the full disk, stays up, reports it, and recovers by itself', async () => {
    const dataDir = join(mountPoint, 'data');
    const { file, pgPort, adminPort } = await writePgConfig(dir, cluster, {
      dataDir,
      extra: 'sessionLog: { strict: true, synchronous: full }',
    });
    let gateway: CliProcess | undefined = await startPgCli(file);
    const filler = join(mountPoint, 'filler');
    let c: pg.Client | undefined;
    try {
      const token = await issueToken(file);
      c = pgClient(pgPort, token);
      await c.connect();
      await c.query('CREATE TABLE IF NOT EXISTS diskfull (id int PRIMARY KEY, label text)');
      await c.query("INSERT INTO diskfull VALUES (1, 'before')");
      expect((await health(adminPort)).status).toBe(200);

      fillDisk(filler);
      // The WAL may still have room it was given earlier; keep writing until a commit needs a new
      // page the disk does not have. Each statement carries a few kilobytes to get there quickly.
      const padding = 'x'.repeat(4000);
      const succeeded: number[] = [];
      const refused = await waitUntil(
        'a statement refused for the full disk',
        async () => {
          const id = 100 + succeeded.length;
          try {
            await c!.query(`INSERT INTO diskfull VALUES (${id}, '${padding}')`);
            succeeded.push(id);
            return undefined;
          } catch (err) {
            return { id, err: err as Error & { code?: string } };
          }
        },
        60_000,
      );
      expect(refused.err.code).toBe('58030');
      expect(refused.err.message).toMatch(/session log unavailable: disk full/);

      // The gateway is still there, says it is degraded and why.
      expect(gateway.child.exitCode).toBeNull();
      const degraded = await health(adminPort);
      expect(degraded.status).toBe(503);
      expect(degraded.body['status']).toBe('degraded');
      expect(JSON.stringify(degraded.body['sessionLog'])).toMatch(/disk full/);
      // Still refusing while the disk is full, and the statement never reached the database.
      const again = await pgError(c.query(`INSERT INTO diskfull VALUES (${refused.id}, 'still full')`));
      expect(again.code).toBe('58030');
      const direct = await cluster.psql(`SELECT count(*) FROM diskfull WHERE id = ${refused.id}`, {
        user: 'app',
        password: 'app-secret-pw-1',
        database: 'shop',
      });
      expect(direct.trim()).toBe('0');

      // Space comes back: the very next statement on the same connection succeeds.
      rmSync(filler);
      await c.query(`INSERT INTO diskfull VALUES (${refused.id}, 'after')`);
      const ok = await health(adminPort);
      expect(ok.status).toBe(200);
      expect(ok.body['status']).toBe('ok');
      await c.end();
      c = undefined;

      gateway.child.kill('SIGTERM');
      expect(await gateway.exited()).toBe(0);
      gateway = undefined;

      const verified = await runCli(['verify', '--config', file], { env: CLI_ENV });
      expect(verified.code, verified.stdout + verified.stderr).toBe(0);
      expect(verified.stdout).toMatch(/^OK /);

      // Every statement the client saw succeed is a command in the log; the refused ones are not.
      const reader = openSessionLogReader(join(dataDir, 'sessions.db'));
      try {
        const commands = reader.eventsOfType('command').map((e) => String(e.data['text'] ?? ''));
        for (const id of succeeded) {
          expect(commands.some((t) => t.includes(`VALUES (${id},`))).toBe(true);
        }
        expect(commands.filter((t) => t.includes(`VALUES (${refused.id},`))).toHaveLength(1);
        expect(commands.some((t) => t.includes("'after'"))).toBe(true);
      } finally {
        reader.close();
      }
    } finally {
      await c?.end().catch(() => undefined);
      rmSync(filler, { force: true });
      if (gateway !== undefined && gateway.child.exitCode === null) gateway.child.kill('SIGKILL');
    }
  }, 120_000);
});
