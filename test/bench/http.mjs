// HTTP module benchmark: keep-alive load (autocannon) on one JSON GET, directly against a small
// upstream and through the gateway (HTTP module, strict session log with `synchronous: full`,
// policy and a masking rule on), alternating in one run. Upstream, gateway and load each run in
// their own process. GATEHOUSE_BENCH_CPU_PROF=DIR writes the gateway's CPU profile into DIR.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { child, compare, toMarkdown } from './proxy-bench.mjs';

export { toMarkdown };

export function gatewayExecArgv() {
  const dir = process.env['GATEHOUSE_BENCH_CPU_PROF'];
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}

export async function run({ sessionLog = '{ strict: true, synchronous: full }', ...options } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-http-'));
  const upstream = child('http-upstream.mjs');
  let gateway;
  try {
    const { port: upstreamPort } = await upstream.next();
    const configFile = join(dir, 'gatehouse.yaml');
    writeFileSync(
      configFile,
      `dataDir: ./data
identity:
  devIssuer: { enabled: true }
admin: { enabled: false }
logging: { level: error }
sessionLog: ${sessionLog}
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
    );
    gateway = child('gateway-process.mjs', [configFile], { execArgv: gatewayExecArgv() });
    const { ports, token } = await gateway.next();
    const path = '/orders/42';
    const results = await compare({
      direct: { url: `http://127.0.0.1:${upstreamPort}${path}` },
      proxied: { url: `http://127.0.0.1:${ports.api}${path}`, headers: { authorization: `Bearer ${token}` } },
      gatewayPid: gateway.proc.pid,
      ...options,
    });
    gateway.proc.kill('SIGTERM');
    const { events } = await gateway.next();
    return { results, events, what: `\`GET ${path}\`, a JSON object` };
  } finally {
    await gateway?.stop();
    await upstream.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(toMarkdown(await run()));
}
