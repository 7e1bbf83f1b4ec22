// Kubernetes module benchmark: keep-alive load (autocannon, HTTPS) on a pod list — what client-go
// sends for `kubectl get pods -o json` — directly against the API-server fixture and through the
// gateway (Kubernetes module, strict session log with `synchronous: full`, policy and a masking
// rule on), alternating in one run. Fixture, gateway and load each run in their own process.
// GATEHOUSE_BENCH_CPU_PROF=DIR writes the gateway's CPU profile into DIR.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gatewayExecArgv } from './http.mjs';
import { child, compare, toMarkdown } from './proxy-bench.mjs';

export { toMarkdown };

export async function run({
  pods = 10,
  sessionLog = '{ strict: true, synchronous: full }',
  ...options
} = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-kube-'));
  const upstream = child('kube-upstream.mjs', [dir, String(pods)]);
  let gateway;
  try {
    const { port: upstreamPort, token: upstreamToken } = await upstream.next();
    const configFile = join(dir, 'gatehouse.yaml');
    writeFileSync(
      configFile,
      `dataDir: ./data
identity:
  devIssuer: { enabled: true }
admin: { enabled: false }
logging: { level: error }
sessionLog: ${sessionLog}
masking:
  rules:
    - { name: pii, columns: [email], style: partial }
connections:
  - name: cluster
    protocol: kubernetes
    listen: 127.0.0.1:0
    upstream: { kubeconfig: ./upstream.kubeconfig }
    policy:
      rules:
        - id: protected
          action: deny
          kubernetes: { namespaces: [kube-system], verbs: [delete, deletecollection] }
        - { id: reads, action: allow, kubernetes: { verbs: [get, list, watch] } }
      defaultAction: deny
`,
    );
    gateway = child('gateway-process.mjs', [configFile], { execArgv: gatewayExecArgv() });
    const { ports, token } = await gateway.next();
    const path = '/api/v1/namespaces/default/pods?limit=500';
    const headers = { accept: 'application/json', 'user-agent': 'kubectl/v1.33.1 (linux/amd64)' };
    const results = await compare({
      direct: {
        url: `https://127.0.0.1:${upstreamPort}${path}`,
        headers: { ...headers, authorization: `Bearer ${upstreamToken}` },
      },
      proxied: {
        url: `https://127.0.0.1:${ports.cluster}${path}`,
        headers: { ...headers, authorization: `Bearer ${token}` },
      },
      gatewayPid: gateway.proc.pid,
      ...options,
    });
    gateway.proc.kill('SIGTERM');
    const { events } = await gateway.next();
    return {
      results,
      events,
      what: `\`GET ${path}\` (\`Accept: application/json\`), a list of ${pods} pods`,
    };
  } finally {
    await gateway?.stop();
    await upstream.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(toMarkdown(await run()));
}
