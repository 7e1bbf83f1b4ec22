// A throwaway PostgreSQL cluster for the benchmarks (initdb as the `postgres` user, SCRAM auth, a
// free loopback port), and the helpers the PostgreSQL benchmarks share: waiting until a port answers
// queries, and a process's CPU seconds and peak RSS from /proc.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const PG_BIN = '/usr/lib/postgresql/15/bin';
export const USER = 'bench';
export const PASSWORD = 'bench-pw-1';
export const DATABASE = 'bench';
export const asRoot = process.getuid?.() === 0;

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export const ids = () => ({
  uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })),
  gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })),
});

export function asPostgres(cmd, args) {
  return asRoot
    ? execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: 'pipe', encoding: 'utf8' })
    : execFileSync(cmd, args, { stdio: 'pipe', encoding: 'utf8' });
}

export function ownDir(dir) {
  chmodSync(dir, 0o755);
  if (asRoot) {
    const { uid, gid } = ids();
    chownSync(dir, uid, gid);
  }
}

/**
 * initdb + pg_ctl start in `dir`; a database `bench` owned by `bench`. `pgbenchScale` fills it with
 * pgbench's tables; `maxConnections` is the server's max_connections.
 */
export async function startCluster(dir, { maxConnections = 100, pgbenchScale } = {}) {
  ownDir(dir);
  const data = join(dir, 'data');
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, `${PASSWORD}\n`);
  if (asRoot) chownSync(pwfile, ids().uid, ids().gid);
  asPostgres(`${PG_BIN}/initdb`, [
    '-D',
    data,
    '-U',
    USER,
    '--auth=scram-sha-256',
    `--pwfile=${pwfile}`,
    '--no-sync',
    '-E',
    'UTF8',
    '--locale=C',
  ]);
  const port = await freePort();
  asPostgres(`${PG_BIN}/pg_ctl`, [
    '-D',
    data,
    '-l',
    join(dir, 'pg.log'),
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=${maxConnections}`,
    '-w',
    'start',
  ]);
  const env = { ...process.env, PGPASSWORD: PASSWORD, PGSSLMODE: 'disable' };
  const base = ['-h', '127.0.0.1', '-p', String(port), '-U', USER];
  execFileSync('psql', [...base, '-d', 'postgres', '-qc', `CREATE DATABASE ${DATABASE}`], { env });
  if (pgbenchScale !== undefined)
    execFileSync('pgbench', ['-i', '-s', String(pgbenchScale), '-q', ...base, DATABASE], {
      env,
      stdio: 'pipe',
    });
  return {
    port,
    stop() {
      asPostgres(`${PG_BIN}/pg_ctl`, ['-D', data, '-m', 'immediate', 'stop']);
    },
  };
}

export async function waitForPostgres(port, password) {
  for (let i = 0; i < 100; i++) {
    try {
      execFileSync(
        'psql',
        ['-X', '-h', '127.0.0.1', '-p', String(port), '-U', USER, '-d', DATABASE, '-qc', 'SELECT 1'],
        {
          env: { ...process.env, PGPASSWORD: password, PGSSLMODE: 'disable' },
          stdio: 'ignore',
        },
      );
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`nothing answers on port ${port}`);
}

/** CPU seconds (user + system) of a process and its peak resident set, from /proc. */
export function procStats(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuSeconds: ticks / 100, peakRssMiB: Number(hwm?.[1] ?? 0) / 1024 };
}
