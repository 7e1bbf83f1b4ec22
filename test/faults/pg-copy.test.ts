/**
 * The PostgreSQL upstream fails in the middle of a COPY, through a real gateway with psql as the
 * client: its backend is terminated from a separate direct connection while `COPY … FROM STDIN` is
 * streaming and while a big `COPY … TO STDOUT` is on its way, and the whole server goes away
 * (`pg_ctl stop -m immediate`) in the middle of a COPY. The client gets PostgreSQL's own error and
 * exits, the session ends with a logged reason, and the gateway serves the next client.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { StoredEvent } from '@gatehouse/core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APP_PASSWORD,
  APP_USER,
  type PgCluster,
  type PgGateway,
  startPostgres,
  startPostgresGateway,
} from '../fixtures/postgres.js';
import { waitUntil } from './support.js';

let cluster: PgCluster;
let gw: PgGateway;
let token: string;

beforeAll(async () => {
  cluster = await startPostgres();
  await cluster.psql(
    `CREATE TABLE copy_in (id int, label text);
     CREATE TABLE copy_big AS SELECT g AS id, repeat('y', 100) AS label FROM generate_series(1, 400000) g;`,
    { user: APP_USER, password: APP_PASSWORD, database: 'shop' },
  );
  gw = await startPostgresGateway(cluster);
  token = await gw.token();
}, 120_000);

afterAll(async () => {
  await gw?.close();
  await cluster?.stop();
});

interface Psql {
  readonly child: ChildProcess;
  stdout(): number;
  stderr(): string;
  exited: Promise<number | null>;
}

function psql(target: PgGateway, sql: string, opts: { pauseStdout?: boolean; token?: string } = {}): Psql {
  const child = spawn(
    'psql',
    [
      '-X',
      '-v',
      'ON_ERROR_STOP=1',
      '-h',
      target.host,
      '-p',
      String(target.port),
      '-U',
      APP_USER,
      '-d',
      'shop',
      '-c',
      sql,
    ],
    {
      env: { ...process.env, PGPASSWORD: opts.token ?? token, PGSSLMODE: 'require', PGCONNECT_TIMEOUT: '10' },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let out = 0;
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.length;
  });
  if (opts.pauseStdout) child.stdout?.pause();
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  child.stdin?.on('error', () => undefined);
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** The upstream backend of the gateway's session running `pattern`, seen from a direct connection. */
async function backendRunning(pattern: string): Promise<number> {
  return waitUntil(`a backend running ${pattern}`, async () => {
    const out = await cluster.psql(
      `SELECT pid FROM pg_stat_activity WHERE usename = '${APP_USER}' AND query LIKE '${pattern}%' AND pid <> pg_backend_pid()`,
    );
    const pid = Number.parseInt(out.trim().split('\n')[0] ?? '', 10);
    return Number.isFinite(pid) ? pid : undefined;
  });
}

/** A hundred rows per write: psql sends COPY data in 8 kB pieces and notices a dead server when it sends. */
function rows(batch: number): string {
  let out = '';
  for (let i = 0; i < 100; i++) out += `${batch * 100 + i}\tstreamed\n`;
  return out;
}

function sessionEnds(target: PgGateway): StoredEvent[] {
  return target.running.log.reader().eventsOfType('session.end');
}

async function endedSince(target: PgGateway, before: number, reason: RegExp): Promise<StoredEvent> {
  return waitUntil('the session to end in the log', () =>
    sessionEnds(target)
      .slice(before)
      .find((e) => reason.test(String(e.data['reason']))),
  );
}

async function servesNext(target: PgGateway): Promise<void> {
  const c = new pg.Client({
    host: target.host,
    port: target.port,
    user: APP_USER,
    database: 'shop',
    password: await target.token(),
    ssl: { rejectUnauthorized: false },
  });
  await c.connect();
  try {
    expect((await c.query('SELECT 7 AS ok')).rows).toEqual([{ ok: 7 }]);
  } finally {
    await c.end();
  }
}

describe('upstream backend terminated mid-COPY', () => {
  it('COPY FROM STDIN: psql gets the server error and exits, the session ends logged', async () => {
    const before = sessionEnds(gw).length;
    const client = psql(gw, 'COPY copy_in FROM STDIN');
    // Stream rows for as long as the client lets us.
    let n = 0;
    const writer = setInterval(() => {
      if (client.child.stdin?.writable) client.child.stdin.write(rows(n++));
    }, 5);
    try {
      const pid = await backendRunning('COPY copy_in');
      await waitUntil('some rows streamed', () => (n > 50 ? true : undefined));
      await cluster.psql(`SELECT pg_terminate_backend(${pid})`);
      const code = await waitUntil('psql to exit', () => client.exited, 20_000);
      expect(code).not.toBe(0);
      expect(client.stderr()).toMatch(
        /terminating connection due to administrator command|server closed the connection/,
      );
    } finally {
      clearInterval(writer);
      client.child.kill('SIGKILL');
    }
    const ended = await endedSince(gw, before, /upstream-closed|upstream-error/);
    expect(ended.data['reason']).toMatch(/upstream/);
    await servesNext(gw);
  });

  it('COPY TO STDOUT of a big table: the stream stops with an error, the session ends logged', async () => {
    const before = sessionEnds(gw).length;
    // psql's output is not read at first, so the table is still on its way when the backend dies.
    const client = psql(gw, 'COPY copy_big TO STDOUT', { pauseStdout: true });
    try {
      const pid = await backendRunning('COPY copy_big');
      await cluster.psql(`SELECT pg_terminate_backend(${pid})`);
      client.child.stdout?.resume();
      const code = await waitUntil('psql to exit', () => client.exited, 20_000);
      expect(code).not.toBe(0);
      expect(client.stderr()).toMatch(
        /terminating connection due to administrator command|server closed the connection|connection to server was lost/,
      );
      // It got part of the table, not all of it (400,000 rows of ~107 bytes).
      expect(client.stdout()).toBeLessThan(400_000 * 107);
    } finally {
      client.child.kill('SIGKILL');
    }
    await endedSince(gw, before, /upstream-closed|upstream-error/);
    await servesNext(gw);
  });
});

describe('upstream server gone mid-COPY', () => {
  it('the client gets an error and exits, and a new client is refused with 08001 naming the upstream', async () => {
    const doomed = await startPostgres();
    const g = await startPostgresGateway(doomed);
    try {
      const before = sessionEnds(g).length;
      const client = psql(g, 'COPY scratch FROM STDIN', { token: await g.token() });
      let n = 0;
      const writer = setInterval(() => {
        if (client.child.stdin?.writable) client.child.stdin.write(rows(n++));
      }, 5);
      try {
        await waitUntil('some rows streamed', () => (n > 50 ? true : undefined));
        await doomed.stop();
        const code = await waitUntil('psql to exit', () => client.exited, 20_000);
        expect(code).not.toBe(0);
        expect(client.stderr()).toMatch(
          /terminating connection|server closed the connection|connection to server was lost|could not send/,
        );
      } finally {
        clearInterval(writer);
        client.child.kill('SIGKILL');
      }
      await endedSince(g, before, /upstream/);

      // Nothing listens upstream now: a new client is told so in PostgreSQL's terms, promptly.
      const c = new pg.Client({
        host: g.host,
        port: g.port,
        user: APP_USER,
        database: 'shop',
        password: await g.token(),
        ssl: { rejectUnauthorized: false },
      });
      c.on('error', () => undefined);
      const err = (await c.connect().then(
        () => undefined,
        (e: unknown) => e,
      )) as (Error & { code?: string }) | undefined;
      expect(err?.code).toBe('08001');
      expect(err?.message).toMatch(/upstream/);
      await endedSince(g, before + 1, /upstream/);
    } finally {
      await g.close();
    }
  }, 120_000);
});
