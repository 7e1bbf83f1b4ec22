/**
 * The API-server fixture checked against real kubectl directly, before anything is tested through
 * the gateway: if these fail, the fixture is wrong, not the gateway.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeApiServer } from './fixtures/kube-apiserver/index.js';
import { kubectl, TmuxSession } from './fixtures/kube-apiserver/kubectl.js';

let api: KubeApiServer;
let dir: string;
let kubeconfig: string;

beforeAll(async () => {
  api = await KubeApiServer.start({ version: '1.33' });
  dir = mkdtempSync(join(tmpdir(), 'kube-fixture-'));
  kubeconfig = api.writeKubeconfig(join(dir, 'kubeconfig'));
  api.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-1', namespace: 'default', labels: { app: 'web' } },
    spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] },
  });
  api.appendLog('default', 'web-1', 'first line\nsecond line\n');
});

afterAll(async () => {
  await api?.close();
});

const run = (args: string[], extra: Partial<Parameters<typeof kubectl>[1]> = {}) =>
  kubectl(args, { kubeconfig, ...extra });

describe('kubectl 1.33 (dispatcher) directly against the fixture', () => {
  it('gets pods as a Table, as YAML and through describe', async () => {
    const table = await run(['get', 'pods']);
    expect(table.stderr).toBe('');
    expect(table.stdout).toMatch(
      /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\nweb-1\s+1\/1\s+Running\s+0\s+\d+s\n$/,
    );
    const yaml = await run(['get', 'pod', 'web-1', '-o', 'yaml']);
    expect(yaml.stdout).toContain('image: nginx:1.27');
    expect(yaml.stdout).toContain('phase: Running');
    const described = await run(['describe', 'pod', 'web-1']);
    expect(described.code).toBe(0);
    expect(described.stdout).toMatch(/Name:\s+web-1/);
    expect(described.stdout).toMatch(/Status:\s+Running/);
  });

  it('applies, patches and deletes', async () => {
    const manifest = join(dir, 'app.yaml');
    writeFileSync(
      manifest,
      `apiVersion: v1
kind: ConfigMap
metadata: { name: settings }
data: { mode: fast }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: api }
spec:
  replicas: 2
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec: { containers: [{ name: api, image: example/api:1 }] }
`,
    );
    const applied = await run(['apply', '-f', manifest]);
    expect(applied.stderr).toBe('');
    expect(applied.stdout).toBe('configmap/settings created\ndeployment.apps/api created\n');
    const again = await run(['apply', '-f', manifest]);
    expect(again.stdout).toBe('configmap/settings unchanged\ndeployment.apps/api unchanged\n');
    const serverSide = await run(['apply', '--server-side', '-f', manifest]);
    expect(serverSide.stdout).toContain('configmap/settings serverside-applied');
    expect((await run(['patch', 'configmap', 'settings', '-p', '{"data":{"mode":"slow"}}'])).code).toBe(0);
    const json = await run([
      'patch',
      'configmap',
      'settings',
      '--type=json',
      '-p',
      '[{"op":"add","path":"/data/x","value":"1"}]',
    ]);
    expect(json.code).toBe(0);
    const data = await run(['get', 'configmap', 'settings', '-o', 'jsonpath={.data}']);
    expect(JSON.parse(data.stdout)).toEqual({ mode: 'slow', x: '1' });
    expect((await run(['scale', 'deployment', 'api', '--replicas=3'])).stdout).toBe(
      'deployment.apps/api scaled\n',
    );
    expect((await run(['get', 'deployment', 'api'])).stdout).toMatch(/api\s+3\/3\s+3\s+3/);
    const deleted = await run(['delete', '-f', manifest]);
    expect(deleted.stdout).toContain('configmap "settings" deleted');
    const gone = await run(['get', 'configmap', 'settings']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe('Error from server (NotFound): configmaps "settings" not found\n');
  });

  it('follows logs', async () => {
    let seen = '';
    const abort = new AbortController();
    const following = run(['logs', '-f', 'web-1'], {
      signal: abort.signal,
      onStdout: (t) => {
        seen += t;
      },
    });
    await waitUntil(() => seen.includes('second line'));
    api.appendLog('default', 'web-1', 'third line');
    await waitUntil(() => seen.includes('third line'));
    api.endLog('default', 'web-1');
    const done = await following;
    expect(done.code).toBe(0);
    expect(done.stdout).toBe('first line\nsecond line\nthird line\n');
  });

  it('execs over WebSocket: output, stdin, exit codes', async () => {
    const echo = await run(['exec', 'web-1', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(echo.stdout).toBe('out\n');
    expect(echo.stderr).toBe('err\ncommand terminated with exit code 3\n');
    expect(echo.code).toBe(3);
    const cat = await run(['exec', '-i', 'web-1', '--', 'cat'], { input: 'piped\n' });
    expect(cat.stdout).toBe('piped\n');
    expect(cat.code).toBe(0);
    expect(api.execs.at(-1)?.protocol).toBe('v5.channel.k8s.io');
  });

  it('execs interactively with a tty', async () => {
    const tmux = TmuxSession.start(
      `kubectl --cache-dir ${mkdtempSync(join(tmpdir(), 'kc-'))} exec -it web-1 -- sh`,
      {
        KUBECONFIG: kubeconfig,
        PATH: process.env['PATH'] ?? '',
      },
    );
    try {
      await tmux.waitFor(/^# ?$/m);
      tmux.type('stty size; tty');
      tmux.enter();
      await tmux.waitFor(/^30 100$/m);
      tmux.type('exit 5');
      tmux.enter();
      const screen = await tmux.waitFor(/\[exited \d+\]/);
      expect(screen).toContain('command terminated with exit code 5');
      expect(screen).toContain('[exited 5]');
    } finally {
      tmux.kill();
    }
  });
});

describe('kubectl 1.29 directly against the fixture', () => {
  it('is picked by the dispatcher from /version, lists, and is told SPDY is not spoken', async () => {
    api.setVersion('1.29');
    try {
      const version = await run(['version']);
      expect(version.stdout).toContain('Client Version: v1.29');
      expect((await run(['get', 'pods'])).stdout).toMatch(/web-1\s+1\/1\s+Running/);
      const exec = await run(['exec', 'web-1', '--', 'echo', 'hi']);
      expect(exec.code).toBe(1);
      expect(exec.stderr).toContain('speaks WebSocket');
    } finally {
      api.setVersion('1.33');
    }
  });
});

describe('the fixture as an API server', () => {
  it('falls back to legacy discovery when aggregated discovery is off', async () => {
    api.setAggregatedDiscovery(false);
    try {
      const out = await run(['get', 'deployments,pods', '-v=6']);
      expect(out.stdout).toContain('pod/web-1');
      expect(out.stderr).toContain('/apis/apps/v1?timeout=32s');
    } finally {
      api.setAggregatedDiscovery(true);
    }
  });

  it('authenticates client certificates and refuses strangers with a Status', async () => {
    const certConfig = api.writeKubeconfig(join(dir, 'cert-kubeconfig'), { auth: 'client-cert' });
    expect((await kubectl(['get', 'pods'], { kubeconfig: certConfig })).stdout).toContain('web-1');
    expect(api.seen.at(-1)?.user).toBe(api.tls.clientName);
    const stranger = api.writeKubeconfig(join(dir, 'bad-kubeconfig'), { auth: { token: 'wrong' } });
    const refused = await kubectl(['get', 'pods'], { kubeconfig: stranger });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('error: You must be logged in to the server');
  });
});

async function waitUntil(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}
