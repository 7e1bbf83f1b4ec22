// HTTP module benchmark: requests/s and latency through the gateway (strict log, policy and masking
// on) against the same upstream directly, alternating in one run. Load and upstream run in their
// own processes; the gateway runs in this one, so its CPU and RSS are what this process uses.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');
const { parseConfig } = await import(pathToFileURL(join(root, 'packages/config/dist/index.js')).href);
const { builtinModules, startFromConfig } = await import(
  pathToFileURL(join(root, 'gateway/dist/index.js')).href
);
const { loadOrCreateDevIssuer } = await import(
  pathToFileURL(join(root, 'packages/identity/dist/index.js')).href
);
const { silentLogger } = await import(pathToFileURL(join(root, 'packages/core/dist/index.js')).href);

function child(script, args) {
  return spawn(process.execPath, [join(here, script), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
}

function firstLine(proc) {
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    proc.on('error', reject);
    proc.on('exit', (code) => reject(new Error(`${proc.spawnfile} exited with ${code}`)));
  });
}

async function load(url, concurrency, durationMs, token) {
  const proc = child('http-load.mjs', [url, String(concurrency), String(durationMs), token]);
  return JSON.parse(await firstLine(proc));
}

export async function run({ durationMs = 3000, rounds = 3, concurrencies = [1, 8] } = {}) {
  const upstream = child('http-upstream.mjs', []);
  const upstreamPort = Number(await firstLine(upstream));
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-http-'));
  const config = parseConfig(
    `dataDir: ./data
identity:
  devIssuer: { enabled: true }
admin: { enabled: false }
logging: { level: error }
policies:
  guard:
    rules:
      - { id: no-delete, action: deny, http: { methods: [DELETE] } }
      - { id: admin-review, action: review, http: { paths: ["/admin/**"] } }
masking:
  rules:
    - { name: pii, columns: [email], style: partial }
connections:
  - name: api
    protocol: http
    listen: 127.0.0.1:0
    upstream: { url: "http://127.0.0.1:${upstreamPort}" }
    policy: { use: [guard] }
`,
    { file: 'bench.yaml', baseDir: dir },
  );
  const running = await startFromConfig(config, { modules: builtinModules(), logger: silentLogger });
  const issuer = await loadOrCreateDevIssuer(config.dataDir);
  const token = await issuer.issue({ sub: 'bench', groups: ['agents'], ttl: 3_600_000 });
  const gatewayPort = running.gateway.addresses().api.port;
  const results = [];
  try {
    for (const concurrency of concurrencies) {
      const direct = [];
      const proxied = [];
      const cpu = [];
      let peakRss = 0;
      for (let round = 0; round < rounds; round++) {
        direct.push(await load(`http://127.0.0.1:${upstreamPort}/orders/42`, concurrency, durationMs, ''));
        const before = process.cpuUsage();
        const watch = setInterval(() => {
          peakRss = Math.max(peakRss, process.memoryUsage().rss);
        }, 100);
        const started = Date.now();
        proxied.push(await load(`http://127.0.0.1:${gatewayPort}/orders/42`, concurrency, durationMs, token));
        clearInterval(watch);
        const used = process.cpuUsage(before);
        cpu.push((used.user + used.system) / 1000 / (Date.now() - started));
      }
      const median = (xs, f) => xs.map(f).sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      results.push({
        concurrency,
        directRps: median(direct, (r) => r.rps),
        gatewayRps: median(proxied, (r) => r.rps),
        ratio: median(proxied, (r) => r.rps) / median(direct, (r) => r.rps),
        directP50: median(direct, (r) => r.p50),
        gatewayP50: median(proxied, (r) => r.p50),
        directP99: median(direct, (r) => r.p99),
        gatewayP99: median(proxied, (r) => r.p99),
        gatewayCpuCores: median(cpu, (x) => x),
        gatewayPeakRssMiB: peakRss / 1024 / 1024,
        errors: proxied.reduce((n, r) => n + r.errors, 0) + direct.reduce((n, r) => n + r.errors, 0),
        logged: running.log.reader().eventCount(),
      });
    }
  } finally {
    await running.close();
    upstream.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

export function toMarkdown(results) {
  const f = (n, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const lines = [
    '| clients | direct req/s | via gateway req/s | ratio | p50 direct → gateway (ms) | p99 direct → gateway (ms) | gateway CPU (cores) | gateway peak RSS (MiB) | errors |',
    '| ---: | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: |',
  ];
  for (const r of results) {
    lines.push(
      `| ${r.concurrency} | ${f(r.directRps)} | ${f(r.gatewayRps)} | ${f(r.ratio, 2)}× | ${f(r.directP50, 2)} → ${f(r.gatewayP50, 2)} | ${f(r.directP99, 2)} → ${f(r.gatewayP99, 2)} | ${f(r.gatewayCpuCores, 2)} | ${f(r.gatewayPeakRssMiB)} | ${r.errors} |`,
    );
  }
  return lines.join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(toMarkdown(await run()));
}
