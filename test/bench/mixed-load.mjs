// Mixed load through ONE gateway with the strict session log (`synchronous: full`): 200 concurrent
// PostgreSQL sessions × 500 statements each (node-postgres; parameterised INSERTs and SELECTs and
// simple-protocol SELECTs) while 20 SSH sessions (ssh2) run exec commands in a loop and two loops
// list pods through the Kubernetes listener. Upstreams are a throwaway PostgreSQL cluster
// (max_connections 300), the sshd fixture and the API-server fixture; the gateway, the upstream
// fixtures and each load generator run in their own processes, so the gateway's CPU seconds and
// peak RSS (from /proc) are its own. Checks afterwards: no client saw an error, each PostgreSQL
// session's command events in the SQLite log number exactly its statements, and `gatehouse verify`
// passes on the log.
//
// Run after `pnpm build`: `node test/bench/mixed-load.mjs` (or `pnpm bench load`). Environment:
// GATEHOUSE_LOAD_PG_SESSIONS (default 200), GATEHOUSE_LOAD_PG_STATEMENTS (default 500),
// GATEHOUSE_LOAD_SSH_SESSIONS (default 20).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DATABASE, ownDir, PASSWORD, procStats, startCluster, USER } from './pg-cluster.mjs';
import { child } from './proxy-bench.mjs';

const root = join(import.meta.dirname, '../..');
const Database = createRequire(join(root, 'packages/session-log/package.json'))('better-sqlite3');
const progress = (what) => process.stderr.write(`load bench: ${what}\n`);

function gatewayConfig({ pgPort, sshd }) {
  return `dataDir: ./data
identity:
  devIssuer: { enabled: true }
admin: { enabled: false }
logging: { level: error }
sessionLog: { strict: true, synchronous: full }
policies:
  guard:
    rules:
      - { id: no-drops, action: deny, sql: { kinds: [drop, truncate] } }
      - { id: delete-without-where, action: review, sql: { kinds: [delete], where: absent } }
masking:
  rules:
    - { name: pii, columns: [email, ssn, card_number], style: partial }
connections:
  - name: pg
    protocol: postgres
    listen: 127.0.0.1:0
    upstream:
      host: 127.0.0.1
      port: ${pgPort}
      database: ${DATABASE}
      user: ${USER}
      password: ${PASSWORD}
      tls: { mode: disable }
    options: { allowPlaintext: true }
    policy: { use: [guard], defaultAction: allow }
  - name: shell
    protocol: ssh
    listen: 127.0.0.1:0
    upstream:
      host: 127.0.0.1
      port: ${sshd.port}
      user: ${sshd.user}
      privateKey: ./upstream_ed25519
      hostKey: "${sshd.hostKeyLine}"
    policy:
      rules:
        - { id: no-rm-rf, action: deny, shell: { programs: [rm], args: [-r, -f] } }
      defaultAction: allow
  - name: cluster
    protocol: kubernetes
    listen: 127.0.0.1:0
    upstream: { kubeconfig: ./upstream.kubeconfig }
    policy:
      rules:
        - { id: reads, action: allow, kubernetes: { verbs: [get, list, watch] } }
      defaultAction: deny
`;
}

/** Command events per `load-<n>` PostgreSQL session (by its application_name) in the log. */
function commandsPerSession(dbPath) {
  const db = new Database(dbPath, { readonly: true });
  try {
    const names = new Map(
      db
        .prepare(
          "SELECT session_id, json_extract(data, '$.applicationName') AS app FROM events WHERE type = 'note' AND json_extract(data, '$.applicationName') LIKE 'load-%'",
        )
        .all()
        .map((r) => [r.session_id, r.app]),
    );
    const counts = new Map([...names.values()].map((app) => [app, 0]));
    for (const r of db
      .prepare("SELECT session_id, count(*) AS n FROM events WHERE type = 'command' GROUP BY session_id")
      .all()) {
      const app = names.get(r.session_id);
      if (app !== undefined) counts.set(app, r.n);
    }
    return counts;
  } finally {
    db.close();
  }
}

export async function run({
  pgSessions = Number(process.env.GATEHOUSE_LOAD_PG_SESSIONS ?? 200),
  statements = Number(process.env.GATEHOUSE_LOAD_PG_STATEMENTS ?? 500),
  sshSessions = Number(process.env.GATEHOUSE_LOAD_SSH_SESSIONS ?? 20),
  kubeLoops = 2,
} = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-load-'));
  ownDir(dir);
  const stops = [];
  try {
    progress('starting PostgreSQL (max_connections 300), sshd, the API-server fixture and the gateway');
    mkdirSync(join(dir, 'cluster'));
    const cluster = await startCluster(join(dir, 'cluster'), { maxConnections: 300 });
    stops.push(() => cluster.stop());
    execFileSync(
      'psql',
      [
        '-X',
        '-h',
        '127.0.0.1',
        '-p',
        String(cluster.port),
        '-U',
        USER,
        '-d',
        DATABASE,
        '-qc',
        'CREATE TABLE load_items (id bigserial PRIMARY KEY, session_no int NOT NULL, n int NOT NULL, note text, at timestamptz DEFAULT now()); CREATE INDEX ON load_items (session_no, id)',
      ],
      { env: { ...process.env, PGPASSWORD: PASSWORD, PGSSLMODE: 'disable' } },
    );
    const sshdProc = child('sshd-upstream.mjs');
    stops.push(() => sshdProc.stop());
    const sshd = await sshdProc.next();
    writeFileSync(join(dir, 'upstream_ed25519'), sshd.clientKey, { mode: 0o600 });
    const kube = child('kube-upstream.mjs', [dir, '10']);
    stops.push(() => kube.stop());
    await kube.next();
    const configFile = join(dir, 'gatehouse.yaml');
    writeFileSync(configFile, gatewayConfig({ pgPort: cluster.port, sshd }));
    const gateway = child('gateway-process.mjs', [configFile]);
    stops.push(() => gateway.stop());
    const { ports, token } = await gateway.next();
    const pid = gateway.proc.pid;
    const idleRssMiB = procStats(pid).peakRssMiB;

    progress(
      `${pgSessions} PostgreSQL sessions × ${statements} statements, ${sshSessions} SSH sessions, ${kubeLoops} Kubernetes list loops`,
    );
    const before = procStats(pid);
    const started = performance.now();
    const ssh = child(
      'load-clients.mjs',
      [JSON.stringify({ kind: 'ssh', port: ports.shell, token, sessions: sshSessions })],
      {
        input: true,
      },
    );
    const kubeLoad = child(
      'load-clients.mjs',
      [JSON.stringify({ kind: 'kube', port: ports.cluster, token, concurrency: kubeLoops })],
      { input: true },
    );
    const pg = child('load-clients.mjs', [
      JSON.stringify({ kind: 'pg', port: ports.pg, token, sessions: pgSessions, statements }),
    ]);
    const pgResult = await pg.next();
    ssh.send('stop');
    kubeLoad.send('stop');
    const [sshResult, kubeResult] = await Promise.all([ssh.next(), kubeLoad.next()]);
    const wallSeconds = (performance.now() - started) / 1000;
    const after = procStats(pid);
    await Promise.all([pg.exited, ssh.exited, kubeLoad.exited]);

    gateway.proc.kill('SIGTERM');
    const { events } = await gateway.next();
    await gateway.exited;

    const counts = commandsPerSession(join(dir, 'data/sessions.db'));
    const wrong = [...counts].filter(([, n]) => n !== statements);
    const verify = spawnSync(
      process.execPath,
      [join(root, 'cli/dist/main.js'), 'verify', '--config', configFile],
      {
        encoding: 'utf8',
      },
    );
    return {
      pgSessions,
      statements,
      sshSessions,
      kubeLoops,
      errors: pgResult.errors + sshResult.errors + kubeResult.errors,
      problems: [...pgResult.problems, ...sshResult.problems, ...kubeResult.problems],
      pgStatements: pgResult.statements,
      pgSeconds: pgResult.seconds,
      statementsPerSecond: pgResult.statements / pgResult.seconds,
      sshCommands: sshResult.commands,
      kubeRequests: kubeResult.requests,
      wallSeconds,
      gatewayCpuSeconds: after.cpuSeconds - before.cpuSeconds,
      gatewayCpuOfWall: (after.cpuSeconds - before.cpuSeconds) / wallSeconds,
      idleRssMiB,
      peakRssMiB: after.peakRssMiB,
      events,
      sessionsLogged: counts.size,
      sessionsWithWrongCount: wrong.length,
      wrongExamples: wrong.slice(0, 5),
      verifyOk: verify.status === 0,
      verifyOutput: (verify.stdout + verify.stderr).trim(),
    };
  } finally {
    for (const stop of stops.reverse()) {
      try {
        await stop();
      } catch {
        // Stopping what is left is best effort.
      }
    }
    if (process.env.GATEHOUSE_LOAD_KEEP) progress(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

export function toMarkdown(r) {
  const f = (n, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  return [
    '| measure | result |',
    '| --- | ---: |',
    `| PostgreSQL sessions × statements | ${r.pgSessions} × ${r.statements} (${f(r.pgStatements)} run) |`,
    `| SSH sessions / exec commands run | ${r.sshSessions} / ${f(r.sshCommands)} |`,
    `| Kubernetes list loops / requests | ${r.kubeLoops} / ${f(r.kubeRequests)} |`,
    `| client errors | ${r.errors} |`,
    `| PostgreSQL sessions whose logged commands ≠ statements | ${r.sessionsWithWrongCount} of ${r.sessionsLogged} |`,
    `| PostgreSQL statements/s (through the gateway, all ${r.pgSessions} sessions) | ${f(r.statementsPerSecond)} |`,
    `| wall time | ${f(r.wallSeconds, 1)} s |`,
    `| gateway CPU | ${f(r.gatewayCpuSeconds, 1)} s (${f(r.gatewayCpuOfWall * 100)} % of wall) |`,
    `| gateway RSS idle → peak | ${f(r.idleRssMiB)} → ${f(r.peakRssMiB)} MiB |`,
    `| session log events | ${f(r.events)} |`,
    `| \`gatehouse verify\` | ${r.verifyOk ? 'passes' : `FAILS: ${r.verifyOutput}`} |`,
  ].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await run();
  console.log(toMarkdown(r));
  if (r.errors > 0 || r.sessionsWithWrongCount > 0 || r.sessionsLogged !== r.pgSessions || !r.verifyOk) {
    console.error('the load run failed its checks:', r);
    process.exit(1);
  }
}
