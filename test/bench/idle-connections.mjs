// Idle connections: 1,000 PostgreSQL client connections (node-postgres, authenticated with a token,
// idle after startup) held open through one gateway to a throwaway cluster (max_connections 1100).
// Reports the gateway's resident set before and after, the difference per connection, and a
// process.memoryUsage() breakdown (V8 heap, external, array buffers) after a full GC each time.
// Gateway and clients run in separate processes; the clients connect 50 at a time.
//
// Run after `pnpm build`: `node test/bench/idle-connections.mjs` (or `pnpm bench load`).
// Environment: GATEHOUSE_LOAD_IDLE (default 1000).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DATABASE, ownDir, PASSWORD, startCluster, USER } from './pg-cluster.mjs';
import { child } from './proxy-bench.mjs';

const progress = (what) => process.stderr.write(`idle bench: ${what}\n`);

function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0);
}

/** The gateway's process.memoryUsage() after a full GC, then its RSS, once it has settled. */
async function measure(gateway) {
  let memory;
  // Two rounds: pages freed by the first GC go back to the system a little later.
  for (let i = 0; i < 2; i++) {
    await new Promise((r) => setTimeout(r, 1500));
    gateway.proc.kill('SIGUSR2');
    ({ memory } = await gateway.next());
  }
  await new Promise((r) => setTimeout(r, 1000));
  return { rssKiB: rssKiB(gateway.proc.pid), memory };
}

export async function run({ count = Number(process.env.GATEHOUSE_LOAD_IDLE ?? 1000) } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-idle-'));
  ownDir(dir);
  const stops = [];
  try {
    progress(`starting PostgreSQL (max_connections ${count + 100}) and the gateway`);
    mkdirSync(join(dir, 'cluster'));
    const cluster = await startCluster(join(dir, 'cluster'), { maxConnections: count + 100 });
    stops.push(() => cluster.stop());
    const configFile = join(dir, 'gatehouse.yaml');
    writeFileSync(
      configFile,
      `dataDir: ./data
identity:
  devIssuer: { enabled: true }
admin: { enabled: false }
logging: { level: error }
sessionLog: { strict: true, synchronous: full }
connections:
  - name: pg
    protocol: postgres
    listen: 127.0.0.1:0
    upstream:
      host: 127.0.0.1
      port: ${cluster.port}
      database: ${DATABASE}
      user: ${USER}
      password: ${PASSWORD}
      tls: { mode: disable }
    options: { allowPlaintext: true }
    policy: { defaultAction: allow }
`,
    );
    const gateway = child('gateway-process.mjs', [configFile]);
    stops.push(() => gateway.stop());
    const { ports, token } = await gateway.next();

    // A first round of connections, closed again, so that code compiled and pools grown on first
    // use are in the "before" figure and not charged to the idle connections.
    const warm = child(
      'load-clients.mjs',
      [JSON.stringify({ kind: 'idle', port: ports.pg, token, count: 50 })],
      {
        input: true,
      },
    );
    await warm.next();
    warm.send('stop');
    const warmed = await warm.next();
    await warm.exited;
    const before = await measure(gateway);

    progress(`opening ${count} idle connections`);
    const idle = child('load-clients.mjs', [JSON.stringify({ kind: 'idle', port: ports.pg, token, count })], {
      input: true,
    });
    const opened = await idle.next();
    const after = await measure(gateway);
    idle.send('stop');
    const closed = await idle.next();
    await idle.exited;
    return {
      count,
      connected: opened.connected,
      errors: warmed.errors + opened.errors + closed.errors,
      problems: [...warmed.problems, ...opened.problems, ...closed.problems],
      before,
      after,
      perConnectionKiB: (after.rssKiB - before.rssKiB) / count,
      heapPerConnectionKiB: (after.memory.heapUsed - before.memory.heapUsed) / 1024 / count,
      externalPerConnectionKiB: (after.memory.external - before.memory.external) / 1024 / count,
    };
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
}

export function toMarkdown(r) {
  const f = (n, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const mib = (bytes) => f(bytes / 2 ** 20, 1);
  return [
    '| measure | before | after | per idle connection |',
    '| --- | ---: | ---: | ---: |',
    `| gateway RSS | ${f(r.before.rssKiB / 1024, 1)} MiB | ${f(r.after.rssKiB / 1024, 1)} MiB | ${f(r.perConnectionKiB, 1)} KiB |`,
    `| V8 heap used (after GC) | ${mib(r.before.memory.heapUsed)} MiB | ${mib(r.after.memory.heapUsed)} MiB | ${f(r.heapPerConnectionKiB, 1)} KiB |`,
    `| external + array buffers | ${mib(r.before.memory.external)} MiB | ${mib(r.after.memory.external)} MiB | ${f(r.externalPerConnectionKiB, 1)} KiB |`,
    '',
    `${f(r.connected)} of ${f(r.count)} PostgreSQL connections open and idle through the gateway (each with its upstream connection), ${r.errors} errors.`,
  ].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await run();
  console.log(toMarkdown(r));
  if (r.errors > 0 || r.connected !== r.count) {
    console.error('the idle run failed its checks:', r);
    process.exit(1);
  }
}
