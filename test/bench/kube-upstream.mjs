// The API-server fixture (test/fixtures/kube-apiserver, TypeScript) in its own process for the
// Kubernetes benchmark, loaded through Vite's module runner as vitest loads it in the tests.
// argv: the directory to write `upstream.kubeconfig` into, and how many pods to create in
// `default`. Prints `{ port, token }` once it listens.
import { join } from 'node:path';
import { createViteServer } from 'vitest/node';

const [dir, pods = '10'] = process.argv.slice(2);
const root = join(import.meta.dirname, '../..');
const vite = await createViteServer({
  configFile: false,
  root,
  logLevel: 'error',
  appType: 'custom',
  server: { middlewareMode: true, hmr: false, ws: false, watch: null },
  optimizeDeps: { noDiscovery: true, include: [] },
});
const { KubeApiServer } = await vite.ssrLoadModule(join(root, 'test/fixtures/kube-apiserver/index.ts'));
await vite.close();

const api = await KubeApiServer.start({ version: '1.33' });
for (let i = 0; i < Number(pods); i++) {
  api.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `web-${i}`, namespace: 'default', labels: { app: 'web', tier: 'frontend' } },
    spec: {
      containers: [
        {
          name: 'app',
          image: 'nginx:1.27',
          env: [{ name: 'OWNER', value: 'ops@example.com' }],
          ports: [{ containerPort: 80 }],
        },
      ],
    },
  });
}
api.writeKubeconfig(join(dir, 'upstream.kubeconfig'), { auth: 'token' });
// The fixture remembers every request for the tests; a benchmark would fill memory with them.
setInterval(() => api.forgetSeen(), 1000).unref();
process.stdout.write(`${JSON.stringify({ port: api.port, token: api.token })}\n`);
process.on('SIGTERM', async () => {
  await api.close();
  process.exit(0);
});
