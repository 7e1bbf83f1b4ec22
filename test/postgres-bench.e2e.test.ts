/**
 * A benchmark, not a test: excluded from `pnpm test`, run by `pnpm bench postgres`. pgbench -S side by side, in one run, against the same cluster —
 * direct, through PgBouncer in session mode (when installed), and through the gateway with a
 * strict session log, in plaintext and over TLS. Prints transactions per second; asserts only that
 * every run completed without failures.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APP_DATABASE,
  APP_PASSWORD,
  APP_USER,
  type PgCluster,
  type PgGateway,
  startPostgres,
  startPostgresGateway,
} from './fixtures/postgres.js';
import { freePort, run } from './support/cli.js';

const seconds = Number(process.env['GATEHOUSE_PG_BENCH_SECONDS'] ?? '10');
const clients = (process.env['GATEHOUSE_PG_BENCH_CLIENTS'] ?? '1,8').split(',').map(Number);

let cluster: PgCluster;
let plain: PgGateway;
let bouncer: { port: number; stop(): void } | undefined;

describe('pgbench -S: direct, PgBouncer, gateway', () => {
  beforeAll(async () => {
    cluster = await startPostgres();
    const env = { PGPASSWORD: APP_PASSWORD, PGSSLMODE: 'disable' };
    const init = await run(
      'pgbench',
      ['-i', '-s', '10', '-q', '-h', cluster.host, '-p', String(cluster.port), '-U', APP_USER, APP_DATABASE],
      { env },
    );
    expect(init.code, init.stderr).toBe(0);
    const synchronous = process.env['GATEHOUSE_PG_BENCH_SYNC'] === 'normal' ? 'normal' : 'full';
    plain = await startPostgresGateway(cluster, {
      options: { allowPlaintext: true },
      sessionLog: { strict: true, synchronous },
    });
    bouncer = existsSync('/usr/sbin/pgbouncer') ? await startBouncer(cluster) : undefined;
  }, 300_000);

  afterAll(async () => {
    bouncer?.stop();
    await plain?.close();
    await cluster?.stop();
  });

  it('measures', async () => {
    const token = await plain.token();
    const targets: { name: string; port: number; password: string; sslmode: string }[] = [
      { name: 'direct', port: cluster.port, password: APP_PASSWORD, sslmode: 'disable' },
      ...(bouncer === undefined
        ? []
        : [{ name: 'pgbouncer (session)', port: bouncer.port, password: APP_PASSWORD, sslmode: 'disable' }]),
      { name: 'gateway (plaintext)', port: plain.port, password: token, sslmode: 'disable' },
      { name: 'gateway (TLS)', port: plain.port, password: token, sslmode: 'require' },
    ];
    const lines: string[] = [];
    for (const c of clients) {
      for (const t of targets) {
        const r = await run(
          'pgbench',
          [
            '-S',
            '-n',
            '-T',
            String(seconds),
            '-c',
            String(c),
            '-j',
            String(Math.min(c, 2)),
            '-h',
            '127.0.0.1',
            '-p',
            String(t.port),
            '-U',
            APP_USER,
            APP_DATABASE,
          ],
          { env: { PGPASSWORD: t.password, PGSSLMODE: t.sslmode } },
        );
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toMatch(/number of failed transactions: 0/);
        const tps = Number(/tps = ([\d.]+)/.exec(r.stdout)?.[1] ?? 'NaN');
        lines.push(
          `${String(c).padStart(2)} clients  ${t.name.padEnd(22)} ${tps.toFixed(0).padStart(7)} tps`,
        );
      }
    }
    console.log(`pgbench -S -T ${seconds}\n${lines.join('\n')}`);
  }, 600_000);
});

async function startBouncer(pg: PgCluster): Promise<{ port: number; stop(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bouncer-'));
  const port = await freePort();
  writeFileSync(join(dir, 'userlist.txt'), `"${APP_USER}" "${APP_PASSWORD}"\n`);
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `${APP_DATABASE} = host=${pg.host} port=${pg.port} dbname=${APP_DATABASE}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      `unix_socket_dir = ${dir}`,
      'auth_type = scram-sha-256',
      `auth_file = ${join(dir, 'userlist.txt')}`,
      'pool_mode = session',
      'max_client_conn = 200',
      'default_pool_size = 50',
      `logfile = ${join(dir, 'log')}`,
      `pidfile = ${join(dir, 'pid')}`,
    ].join('\n'),
  );
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    for (const f of ['', 'userlist.txt', 'pgbouncer.ini']) chownSync(join(dir, f), uid, gid);
    chmodSync(dir, 0o755);
  }
  const ini = join(dir, 'pgbouncer.ini');
  const child: ChildProcess = asRoot
    ? spawn('runuser', ['-u', 'postgres', '--', '/usr/sbin/pgbouncer', ini], { stdio: 'ignore' })
    : spawn('/usr/sbin/pgbouncer', [ini], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    const probe = await run(
      'psql',
      ['-X', '-h', '127.0.0.1', '-p', String(port), '-U', APP_USER, '-d', APP_DATABASE, '-c', 'SELECT 1'],
      {
        env: { PGPASSWORD: APP_PASSWORD, PGSSLMODE: 'disable' },
      },
    );
    if (probe.code === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    stop() {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
