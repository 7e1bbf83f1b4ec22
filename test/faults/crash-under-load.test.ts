/**
 * `gatehouse start` is SIGKILLed while several PostgreSQL clients are inserting through it as fast
 * as they can. After a restart the log verifies, the sessions that were open end with
 * `gateway-restart`, and every statement a client was told had succeeded is in the log.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { openSessionLogReader } from '@gatehouse/session-log';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PgCluster, startPostgres } from '../fixtures/postgres.js';
import { runCli, tempDir } from '../support/cli.js';
import {
  CLI_ENV,
  issueToken,
  listSessions,
  pgClient,
  startPgCli,
  waitUntil,
  writePgConfig,
} from './support.js';

let cluster: PgCluster;
let dir: string;

beforeAll(async () => {
  cluster = await startPostgres();
  dir = tempDir('gatehouse-crash-');
}, 120_000);

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await cluster?.stop();
});

const CLIENTS = 6;

describe('gateway killed under load', () => {
  it('keeps every acknowledged statement and a verifiable log across a SIGKILL', async () => {
    const { file, pgPort } = await writePgConfig(dir, cluster);
    const first = await startPgCli(file);
    const token = await issueToken(file);
    const setup = pgClient(pgPort, token);
    await setup.connect();
    await setup.query('CREATE TABLE crash_load (client int, n int, PRIMARY KEY (client, n))');
    await setup.end();

    // Each client inserts rows numbered 0, 1, 2… and notes the ones it got CommandComplete for.
    const acked: number[][] = Array.from({ length: CLIENTS }, () => []);
    const workers = acked.map(async (mine, client) => {
      const c = pgClient(pgPort, token);
      await c.connect();
      for (let n = 0; ; n++) {
        try {
          await c.query(`INSERT INTO crash_load VALUES (${client}, ${n})`);
        } catch {
          return;
        }
        mine.push(n);
      }
    });
    await waitUntil('clients to get going', () => (acked.every((a) => a.length >= 20) ? true : undefined));
    first.child.kill('SIGKILL');
    await first.exited();
    await Promise.all(workers);
    const total = acked.reduce((s, a) => s + a.length, 0);
    expect(total).toBeGreaterThan(CLIENTS * 20);

    // Restart: open sessions are ended, the gateway serves again.
    const second = await startPgCli(file);
    try {
      const after = pgClient(pgPort, token);
      await after.connect();
      const { rows } = await after.query('SELECT count(*)::int AS n FROM crash_load');
      expect(rows[0].n).toBeGreaterThanOrEqual(total);
      await after.end();
    } finally {
      second.child.kill('SIGTERM');
      expect(await second.exited()).toBe(0);
    }

    const verified = await runCli(['verify', '--config', file], { env: CLI_ENV });
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/^OK /);

    const sessions = await listSessions(file);
    expect(sessions.filter((s) => s.endReason === 'gateway-restart').length).toBe(CLIENTS);
    expect(sessions.every((s) => s.endReason !== undefined)).toBe(true);

    const reader = openSessionLogReader(join(dir, 'data/sessions.db'));
    try {
      const logged = new Set(
        reader
          .eventsOfType('command')
          .map((e) => /INSERT INTO crash_load VALUES \((\d+), (\d+)\)/.exec(String(e.data['text'])))
          .filter((m) => m !== null)
          .map((m) => `${m[1]}/${m[2]}`),
      );
      const missing = acked
        .flatMap((ns, client) => ns.map((n) => `${client}/${n}`))
        .filter((k) => !logged.has(k));
      expect(missing).toEqual([]);
    } finally {
      reader.close();
    }
  }, 120_000);
});
