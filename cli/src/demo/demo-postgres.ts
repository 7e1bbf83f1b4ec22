/**
 * The demo's throwaway PostgreSQL cluster: the newest server found under /usr/lib/postgresql,
 * initialised inside the demo's data directory with SCRAM authentication and generated passwords,
 * listening on a free port on 127.0.0.1 only (no Unix socket), and seeded with a small schema
 * holding personal data. PostgreSQL refuses to run as root, so when the demo runs as root the
 * cluster belongs to, and runs as, the `postgres` OS user.
 *
 * Every step runs in its own process group, so a Ctrl-C in the terminal reaches only the demo,
 * which then stops the cluster in order (`pg_ctl stop -m fast`).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { basename, dirname, join } from 'node:path';

export const DEMO_PG_DATABASE = 'demo';
/** The role the gateway logs in as upstream (not a superuser), and the `user=` clients name. */
export const DEMO_PG_USER = 'agent';
/** Where the agent role's password is kept, relative to the demo's data directory. */
export const DEMO_PG_PASSWORD_FILE = 'postgres-agent.password';
/** The cluster's directory, relative to the demo's data directory. */
export const DEMO_PG_CLUSTER_DIR = 'postgres-cluster';

const SERVER_ROOT = '/usr/lib/postgresql';
const SUPERUSER = 'postgres';
const SERVER_USER = 'postgres';

/** Where the server binaries are, or why the demo runs without PostgreSQL. */
export type PostgresBinaries = { readonly bin: string; readonly version: string } | { readonly skip: string };

/** The newest `/usr/lib/postgresql/<version>/bin` holding initdb, pg_ctl and psql. */
export function findPostgresBinaries(root = SERVER_ROOT): PostgresBinaries {
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return { skip: `no PostgreSQL server binaries (${root}/*/bin/initdb not found)` };
  }
  const usable = entries
    .filter((v) => /^\d+(\.\d+)*$/.test(v))
    .filter((v) => ['initdb', 'pg_ctl', 'psql'].every((tool) => existsSync(join(root, v, 'bin', tool))))
    .sort(compareVersions);
  const newest = usable.at(-1);
  if (newest === undefined) return { skip: `no PostgreSQL server binaries (${root}/*/bin/initdb not found)` };
  return { bin: join(root, newest, 'bin'), version: newest };
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** A precondition the demo cannot meet: it runs without PostgreSQL and says why. */
export class PostgresUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PostgresUnavailable';
  }
}

export interface DemoPostgres {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  /** Absolute path of the agent role's password file (0600). */
  readonly passwordFile: string;
  /** The cluster's directory (data, server log, superuser password). */
  readonly dir: string;
  /** Stops the server (`pg_ctl stop -m fast`) and removes the cluster. Safe to call twice. */
  stop(): Promise<void>;
}

export interface DemoPostgresOptions {
  readonly bin: string;
  /** The demo's data directory (absolute); the cluster goes into a subdirectory of it. */
  readonly dataDir: string;
  /** Aborted when the user stops the demo: startup stops between steps and cleans up. */
  readonly signal?: AbortSignal;
}

interface RunAs {
  readonly uid: number;
  readonly gid: number;
}

/**
 * Initialises, starts and seeds the cluster. On failure (or abort) everything started is stopped
 * and removed before the error is thrown. Throws PostgresUnavailable when a precondition is not met
 * (root without a `postgres` user, a data directory the server's user cannot reach).
 */
export async function startDemoPostgres(opts: DemoPostgresOptions): Promise<DemoPostgres> {
  const { bin, dataDir, signal } = opts;
  const owner = await serverOwner();
  const dir = join(dataDir, DEMO_PG_CLUSTER_DIR);
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const tool = (name: string) => join(bin, name);

  // A cluster left by a demo that was killed: stop it and start afresh.
  if (existsSync(dir)) {
    if (existsSync(join(data, 'postmaster.pid'))) {
      await runTool(owner, dir, tool('pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(
        () => {},
      );
    }
    rmSync(dir, { recursive: true, force: true });
  }
  if (owner !== undefined) await letServerReach(owner, dataDir);
  signal?.throwIfAborted();

  mkdirSync(dir, { mode: 0o700 });
  chownTo(owner, dir);
  const superPassword = generatePassword();
  const agentPassword = generatePassword();
  const superPasswordFile = join(dir, 'superuser.password');
  writeFileSync(superPasswordFile, `${superPassword}\n`, { mode: 0o600 });
  chownTo(owner, superPasswordFile);
  const passwordFile = join(dataDir, DEMO_PG_PASSWORD_FILE);
  rmSync(passwordFile, { force: true });
  writeFileSync(passwordFile, `${agentPassword}\n`, { mode: 0o600 });

  const port = await freeLoopbackPort();
  let started = false;
  let stopped: Promise<void> | undefined;
  const cluster: DemoPostgres = {
    host: '127.0.0.1',
    port,
    database: DEMO_PG_DATABASE,
    user: DEMO_PG_USER,
    passwordFile,
    dir,
    stop() {
      stopped ??= (async () => {
        if (started && existsSync(join(data, 'postmaster.pid'))) {
          await runTool(owner, dir, tool('pg_ctl'), ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop']);
        }
        rmSync(dir, { recursive: true, force: true });
        rmSync(passwordFile, { force: true });
      })();
      return stopped;
    },
  };

  try {
    await runTool(owner, dir, tool('initdb'), [
      '-D',
      data,
      '-U',
      SUPERUSER,
      '--auth=scram-sha-256',
      `--pwfile=${superPasswordFile}`,
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
    ]);
    signal?.throwIfAborted();
    // Loopback TCP only: no Unix socket (its path could exceed the 107-byte limit, and nothing
    // needs it). fsync off: the cluster is thrown away.
    appendFileSync(
      join(data, 'postgresql.conf'),
      [
        '',
        '# Written by `gatehouse demo`.',
        "listen_addresses = '127.0.0.1'",
        `port = ${port}`,
        "unix_socket_directories = ''",
        'fsync = off',
        'synchronous_commit = off',
        'full_page_writes = off',
        '',
      ].join('\n'),
    );
    started = true;
    try {
      await runTool(owner, dir, tool('pg_ctl'), ['-D', data, '-l', logFile, '-w', '-t', '60', 'start']);
    } catch (err) {
      throw new Error(`${(err as Error).message}${serverLogTail(logFile)}`);
    }
    signal?.throwIfAborted();
    await psql(tool('psql'), port, SUPERUSER, superPassword, 'postgres', CREATE_ROLE, {
      agent_password: agentPassword,
    });
    await psql(tool('psql'), port, DEMO_PG_USER, agentPassword, DEMO_PG_DATABASE, SAMPLE_SCHEMA);
    signal?.throwIfAborted();
  } catch (err) {
    try {
      await cluster.stop();
    } catch (stopErr) {
      throw new Error(
        `${(err as Error).message}; stopping the cluster failed too: ${(stopErr as Error).message}`,
      );
    }
    throw err;
  }
  return cluster;
}

const CREATE_ROLE = `
  CREATE ROLE ${DEMO_PG_USER} LOGIN PASSWORD :'agent_password';
  CREATE DATABASE ${DEMO_PG_DATABASE} OWNER ${DEMO_PG_USER};
`;

const SAMPLE_SCHEMA = `
  CREATE TABLE customers (
    id serial PRIMARY KEY,
    name text NOT NULL,
    email text NOT NULL,
    phone text,
    card_number text,
    ssn text
  );
  INSERT INTO customers (name, email, phone, card_number, ssn) VALUES
    ('Ada Lovelace', 'ada@example.com', '+44 20 7946 0958', '4111 1111 1111 1111', '078-05-1120'),
    ('Alan Turing', 'alan@example.com', '(555) 123-4567', '5500-0000-0000-0004', '219-09-9999'),
    ('Grace Hopper', 'grace@example.com', '+1 202 555 0143', '3400 000000 00009', '457-55-5462');
  CREATE TABLE orders (
    id serial PRIMARY KEY,
    customer_id int NOT NULL REFERENCES customers(id),
    amount numeric(10, 2) NOT NULL,
    status text NOT NULL DEFAULT 'paid',
    created_at timestamptz NOT NULL DEFAULT now()
  );
  INSERT INTO orders (customer_id, amount, status) VALUES
    (1, 42.50, 'paid'), (2, 10.00, 'shipped'), (1, 7.25, 'refunded'), (3, 99.99, 'paid');
`;

function generatePassword(): string {
  return randomBytes(24).toString('base64url');
}

/** The OS user the server runs as when the demo runs as root; undefined: the current user. */
async function serverOwner(): Promise<RunAs | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number((await run('id', ['-u', SERVER_USER])).stdout.trim());
    const gid = Number((await run('id', ['-g', SERVER_USER])).stdout.trim());
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error('unexpected output of id');
    return { uid, gid };
  } catch {
    throw new PostgresUnavailable(
      `running as root, and PostgreSQL will not run as root, but there is no "${SERVER_USER}" OS user to run it as`,
    );
  }
}

/**
 * The server's user must be able to pass through the data directory to reach its cluster. The
 * demo's own directory is opened to the server's group only (search, not read: 0710); a parent
 * directory that shuts it out is not changed, the demo says which one instead.
 */
async function letServerReach(owner: RunAs, dataDir: string): Promise<void> {
  const unreachable = () =>
    new PostgresUnavailable(
      `the "${SERVER_USER}" OS user cannot reach ${dataDir} (a parent directory is not searchable by it); ` +
        'pass a --data-dir it can reach',
    );
  if (!(await serverCanSearch(dirname(dataDir)))) throw unreachable();
  const st = statSync(dataDir);
  if (st.uid === process.getuid?.() && (st.mode & 0o010) === 0 && (st.mode & 0o001) === 0) {
    chownSync(dataDir, st.uid, owner.gid);
    chmodSync(dataDir, (st.mode & 0o777) | 0o010);
  }
  if (!(await serverCanSearch(dataDir))) throw unreachable();
}

function serverCanSearch(dir: string): Promise<boolean> {
  return run('runuser', ['-u', SERVER_USER, '--', 'test', '-x', dir], { cwd: '/' }).then(
    () => true,
    () => false,
  );
}

function chownTo(owner: RunAs | undefined, path: string): void {
  if (owner !== undefined) chownSync(path, owner.uid, owner.gid);
}

function runTool(owner: RunAs | undefined, cwd: string, cmd: string, args: readonly string[]) {
  return owner === undefined
    ? run(cmd, args, { cwd })
    : run('runuser', ['-u', SERVER_USER, '--', cmd, ...args], { cwd });
}

function psql(
  psqlBin: string,
  port: number,
  user: string,
  password: string,
  database: string,
  sql: string,
  vars: Record<string, string> = {},
) {
  const varArgs = Object.entries(vars).flatMap(([k, v]) => ['-v', `${k}=${v}`]);
  return run(
    psqlBin,
    [
      '-X',
      '-q',
      '-v',
      'ON_ERROR_STOP=1',
      ...varArgs,
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-U',
      user,
      '-d',
      database,
      '-f',
      '-',
    ],
    {
      input: sql,
      env: {
        PGPASSWORD: password,
        PGSSLMODE: 'disable',
        PGCONNECT_TIMEOUT: '10',
        PGAPPNAME: 'gatehouse-demo',
      },
    },
  );
}

/** Runs a program in its own process group and collects its output; rejects naming the program. */
function run(
  cmd: string,
  args: readonly string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: { ...process.env, LC_ALL: 'C', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const name = basename(cmd === 'runuser' ? (args[args.indexOf('--') + 1] ?? cmd) : cmd);
    child.on('error', (err) => reject(new Error(`could not run ${name}: ${err.message}`)));
    child.on('close', (code, sig) => {
      if (code === 0) return resolve({ stdout, stderr });
      const why = sig === null ? `exited ${code}` : `was killed by ${sig}`;
      const detail = stderr.trim() || stdout.trim();
      reject(new Error(`${name} ${why}${detail === '' ? '' : `: ${lastLines(detail, 8)}`}`));
    });
    // A program that exits without reading its input must not crash the demo with EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

function serverLogTail(logFile: string): string {
  try {
    const text = readFileSync(logFile, 'utf8').trim();
    return text === '' ? '' : `\nserver log (${logFile}):\n${lastLines(text, 15)}`;
  } catch {
    return '';
  }
}

function lastLines(text: string, n: number): string {
  return text.split('\n').slice(-n).join('\n');
}

/** A port on 127.0.0.1 that was free a moment ago. */
function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
