// PostgreSQL benchmark: `pgbench -S` (simple and extended protocol, 1 and 8 clients) against one
// throwaway cluster, side by side in one run — direct, through PgBouncer (session mode, when the
// Debian package is installed), through a bare Node pipe proxy, and through the gateway (its own
// process, started with the real CLI: strict session log, policy and masking rules on), in
// rounds that alternate the targets. Reports medians of transactions per second, their ratios,
// the latency pgbench logs per transaction (p50/p99), the gateway's CPU and peak RSS, and checks
// that the session log holds exactly one command event per statement pgbench ran.
//
// Run after `pnpm build`: `node test/bench/postgres.mjs` (or `pnpm bench postgres`). Environment:
// GATEHOUSE_PG_BENCH_SECONDS (per cell, default 5), GATEHOUSE_PG_BENCH_ROUNDS (default 3),
// GATEHOUSE_PG_BENCH_CLIENTS (default 1,8), GATEHOUSE_PG_BENCH_SYNC (full|normal, default both).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  asRoot,
  DATABASE,
  freePort,
  ids,
  ownDir,
  PASSWORD,
  procStats,
  startCluster,
  USER,
  waitForPostgres,
} from './pg-cluster.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');
const BOUNCER = '/usr/sbin/pgbouncer';
// better-sqlite3 is a dependency of the session-log package, not of the test package.
const Database = createRequire(join(root, 'packages/session-log/package.json'))('better-sqlite3');

async function startBouncer(dir, pgPort) {
  ownDir(dir);
  const port = await freePort();
  writeFileSync(join(dir, 'users'), `"${USER}" "${PASSWORD}"\n`);
  const ini = join(dir, 'pgbouncer.ini');
  writeFileSync(
    ini,
    [
      '[databases]',
      `${DATABASE} = host=127.0.0.1 port=${pgPort} dbname=${DATABASE}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      `unix_socket_dir = ${dir}`,
      'auth_type = scram-sha-256',
      `auth_file = ${join(dir, 'users')}`,
      'pool_mode = session',
      'max_client_conn = 200',
      'default_pool_size = 50',
      `logfile = ${join(dir, 'log')}`,
      `pidfile = ${join(dir, 'pid')}`,
    ].join('\n'),
  );
  if (asRoot) for (const f of ['users', 'pgbouncer.ini']) chownSync(join(dir, f), ids().uid, ids().gid);
  const child = asRoot
    ? spawn('runuser', ['-u', 'postgres', '--', BOUNCER, ini], { stdio: 'ignore' })
    : spawn(BOUNCER, [ini], { stdio: 'ignore' });
  await waitForPostgres(port, PASSWORD);
  return { port, stop: () => child.kill('SIGTERM') };
}

/** A bare Node proxy: what any Node gateway pays before doing anything. */
async function startPipe(pgPort) {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      '-e',
      `const net = require('node:net');
       net.createServer((c) => { const u = net.connect(${pgPort}, '127.0.0.1'); c.pipe(u); u.pipe(c);
         c.on('error', () => u.destroy()); u.on('error', () => c.destroy()); })
         .listen(${port}, '127.0.0.1', () => console.log('ready'));`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise((resolve) => child.stdout.once('data', resolve));
  return { port, stop: () => child.kill('SIGTERM') };
}

function cli(args, opts = {}) {
  return execFileSync(process.execPath, [join(root, 'cli/dist/main.js'), ...args], {
    encoding: 'utf8',
    ...opts,
  });
}

async function startGateway(dir, pgPort, synchronous) {
  const port = await freePort();
  const file = join(dir, 'gatehouse.yaml');
  writeFileSync(
    file,
    `dataDir: ./data
identity:
  devIssuer: { enabled: true }
admin: { enabled: false }
logging: { level: error }
sessionLog: { strict: true, synchronous: ${synchronous} }
policies:
  guard:
    rules:
      - { id: no-drops, action: deny, sql: { kinds: [drop, truncate] } }
      - { id: delete-without-where, action: review, sql: { kinds: [delete], where: absent } }
masking:
  rules:
    - { name: pii, columns: [email, ssn, card_number], style: partial }
connections:
  - name: bench
    protocol: postgres
    listen: 127.0.0.1:${port}
    upstream:
      host: 127.0.0.1
      port: ${pgPort}
      database: ${DATABASE}
      user: ${USER}
      password: \${env:BENCH_PG_PASSWORD}
      tls: { mode: disable }
    options: { allowPlaintext: true }
    policy: { use: [guard], defaultAction: allow }
`,
  );
  const child = spawn(process.execPath, [join(root, 'cli/dist/main.js'), 'start', '--config', file], {
    env: { ...process.env, BENCH_PG_PASSWORD: PASSWORD },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const token = cli(
    ['token', 'issue', '--sub', 'bench', '--groups', 'agents', '--ttl', '2h', '--config', file],
    { env: { ...process.env, BENCH_PG_PASSWORD: PASSWORD } },
  ).trim();
  await waitForPostgres(port, token);
  return {
    port,
    token,
    pid: child.pid,
    db: join(dir, 'data/sessions.db'),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

function percentile(sorted, p) {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.floor(s.length / 2)];
};

function pgbench(port, password, clients, seconds, mode, sslmode, logDir) {
  const prefix = join(logDir, `tx-${port}-${clients}-${mode}-${Date.now()}`);
  const out = execFileSync(
    'pgbench',
    [
      '-S',
      '-n',
      '-M',
      mode,
      '-T',
      String(seconds),
      '-c',
      String(clients),
      '-j',
      String(Math.min(clients, 2)),
      '-l',
      '--log-prefix',
      prefix,
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-U',
      USER,
      DATABASE,
    ],
    { env: { ...process.env, PGPASSWORD: password, PGSSLMODE: sslmode }, encoding: 'utf8', cwd: logDir },
  );
  if (!/number of failed transactions: 0/.test(out)) throw new Error(`pgbench reported failures:\n${out}`);
  const tps = Number(/tps = ([\d.]+)/.exec(out)?.[1] ?? 'NaN');
  const transactions = Number(/number of transactions actually processed: (\d+)/.exec(out)?.[1] ?? 'NaN');
  // Per-transaction log lines: client_id transaction_no time_us script_no time_epoch time_us_part.
  const latencies = [];
  const base = prefix.split('/').pop();
  for (const name of readdirSync(logDir).filter((n) => n.startsWith(base))) {
    const path = join(logDir, name);
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      const f = line.split(' ');
      if (f.length >= 3) latencies.push(Number(f[2]) / 1000);
    }
    rmSync(path);
  }
  latencies.sort((a, b) => a - b);
  return { tps, transactions, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** Command events of pgbench's statement in the gateway's log, counted from a reader connection. */
function loggedStatements(dbPath) {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db
      .prepare(
        "SELECT count(*) FROM events WHERE type = 'command' AND data LIKE '%SELECT abalance FROM pgbench_accounts%'",
      )
      .pluck()
      .get();
  } finally {
    db.close();
  }
}

export async function run({
  seconds = Number(process.env.GATEHOUSE_PG_BENCH_SECONDS ?? 5),
  rounds = Number(process.env.GATEHOUSE_PG_BENCH_ROUNDS ?? 3),
  clients = (process.env.GATEHOUSE_PG_BENCH_CLIENTS ?? '1,8').split(',').map(Number),
  syncs = (process.env.GATEHOUSE_PG_BENCH_SYNC ?? 'full,normal').split(','),
  modes = ['simple', 'extended'],
} = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-pg-'));
  ownDir(dir);
  const logDir = join(dir, 'pgbench');
  execFileSync('mkdir', ['-p', logDir]);
  const stops = [];
  const results = [];
  const progress = (what) => process.stderr.write(`postgres bench: ${what}\n`);
  try {
    execFileSync('mkdir', ['-p', join(dir, 'cluster'), join(dir, 'bouncer')]);
    progress('starting PostgreSQL, PgBouncer, a pipe proxy and the gateway');
    const cluster = await startCluster(join(dir, 'cluster'), { pgbenchScale: 10 });
    stops.push(() => cluster.stop());
    const bouncer = existsSync(BOUNCER) ? await startBouncer(join(dir, 'bouncer'), cluster.port) : undefined;
    if (bouncer) stops.push(() => bouncer.stop());
    const pipe = await startPipe(cluster.port);
    stops.push(() => pipe.stop());
    const gateways = {};
    for (const sync of syncs) {
      const gwDir = join(dir, `gateway-${sync}`);
      execFileSync('mkdir', ['-p', gwDir]);
      gateways[sync] = await startGateway(gwDir, cluster.port, sync);
      stops.push(() => gateways[sync].stop());
    }
    const targets = [
      { name: 'direct', port: cluster.port, password: PASSWORD },
      ...(bouncer ? [{ name: 'pgbouncer', port: bouncer.port, password: PASSWORD }] : []),
      { name: 'node pipe', port: pipe.port, password: PASSWORD },
      ...syncs.map((sync) => ({
        name: `gateway (${sync})`,
        port: gateways[sync].port,
        password: gateways[sync].token,
        gateway: gateways[sync],
      })),
    ];
    for (const mode of modes) {
      for (const c of clients) {
        const cells = new Map(
          targets.map((t) => [t.name, { tps: [], p50: [], p99: [], cpu: [], rss: 0, logged: 0, ran: 0 }]),
        );
        for (let round = 0; round < rounds; round++) {
          for (const t of targets) {
            const before = t.gateway ? procStats(t.gateway.pid) : undefined;
            const loggedBefore = t.gateway ? loggedStatements(t.gateway.db) : 0;
            progress(`${mode}, ${c} client(s), round ${round + 1}/${rounds}: ${t.name}`);
            const r = pgbench(t.port, t.password, c, seconds, mode, 'disable', logDir);
            const cell = cells.get(t.name);
            cell.tps.push(r.tps);
            cell.p50.push(r.p50);
            cell.p99.push(r.p99);
            if (t.gateway) {
              const after = procStats(t.gateway.pid);
              cell.cpu.push((after.cpuSeconds - before.cpuSeconds) / seconds);
              cell.rss = Math.max(cell.rss, after.peakRssMiB);
              // Results are deferred by a few milliseconds; commands are committed before they run.
              cell.logged += loggedStatements(t.gateway.db) - loggedBefore;
              cell.ran += r.transactions;
            }
          }
        }
        const direct = median(cells.get('direct').tps);
        const bouncerTps = bouncer ? median(cells.get('pgbouncer').tps) : undefined;
        for (const t of targets) {
          const cell = cells.get(t.name);
          const tps = median(cell.tps);
          results.push({
            mode,
            clients: c,
            target: t.name,
            tps,
            ofDirect: tps / direct,
            ofBouncer: bouncerTps === undefined ? undefined : tps / bouncerTps,
            p50: median(cell.p50),
            p99: median(cell.p99),
            ...(t.gateway
              ? { cpuCores: median(cell.cpu), peakRssMiB: cell.rss, logged: cell.logged, ran: cell.ran }
              : {}),
          });
        }
      }
    }
  } finally {
    for (const stop of stops.reverse()) {
      try {
        await stop();
      } catch {
        // Stopping what is left is best effort.
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

export function toMarkdown(results) {
  const f = (n, d = 0) =>
    n === undefined ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const lines = [
    '| protocol | clients | target | tps | ÷ direct | ÷ PgBouncer | p50 / p99 latency (ms) | gateway CPU (cores) | gateway peak RSS (MiB) | statements logged / run |',
    '| --- | ---: | --- | ---: | ---: | ---: | --- | ---: | ---: | --- |',
  ];
  for (const r of results) {
    lines.push(
      `| ${r.mode} | ${r.clients} | ${r.target} | ${f(r.tps)} | ${f(r.ofDirect, 2)}× | ${r.ofBouncer === undefined ? '–' : `${f(r.ofBouncer, 2)}×`} | ${f(r.p50, 3)} / ${f(r.p99, 3)} | ${f(r.cpuCores, 2)} | ${f(r.peakRssMiB)} | ${r.logged === undefined ? '–' : `${r.logged} / ${r.ran}`} |`,
    );
  }
  return lines.join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = await run();
  console.log(toMarkdown(results));
  const missing = results.filter((r) => r.logged !== undefined && r.logged !== r.ran);
  if (missing.length > 0) {
    console.error('the session log does not hold one command per statement run:', missing);
    process.exit(1);
  }
}
