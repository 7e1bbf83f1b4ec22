/**
 * Streams and large responses through the Kubernetes module with real kubectl 1.33: a watch in
 * Table form whose events reach kubectl while the stream stays open, a list of 1,200 ConfigMaps
 * that kubectl pages through (continue tokens pass untouched), and a multi-megabyte list that
 * arrives through the gateway byte for byte as the cluster sent it.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubeBed, startKubeBed } from './fixtures/kube-apiserver/gateway-bed.js';

const POLICY = `      rules:
        - id: no-secret-watch
          action: deny
          message: watching secrets is not allowed
          kubernetes: { resources: [secrets], verbs: [watch] }
`;
const CONFIGMAPS = 1200;

let bed: KubeBed;
let agent: string;
let agentToken: string;
let caFile: string;

beforeAll(async () => {
  bed = await startKubeBed({ policy: POLICY });
  agent = await bed.kubeconfigFor('agent-1', ['agents']);
  agentToken = await bed.issuer.issue({ sub: 'agent-1', groups: ['agents'] });
  caFile = join(bed.dir, 'gateway-ca.pem');
  writeFileSync(caFile, bed.caPem);
  writeFileSync(join(bed.dir, 'fixture-ca.pem'), bed.api.tls.caPem);
  bed.api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'big' } });
  const value = 'x'.repeat(2000);
  for (let i = 0; i < CONFIGMAPS; i++) {
    bed.api.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `settings-${String(i).padStart(4, '0')}`, namespace: 'big', labels: { app: 'web' } },
      data: { value, index: String(i) },
    });
  }
});

afterAll(async () => {
  await bed?.close();
});

async function curl(args: string[]): Promise<{ status: number; body: string }> {
  const { stdout } = await promisify(execFile)('curl', ['-sS', '-w', '\n%{http_code}', ...args], {
    maxBuffer: 64 * 1024 * 1024,
  });
  const cut = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) };
}

async function waitUntil(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('watches', () => {
  it('reach kubectl event by event while the stream stays open (Table form)', async () => {
    let seen = '';
    const abort = new AbortController();
    const watching = bed.kubectlAs(agent, ['get', 'pods', '--watch'], {
      signal: abort.signal,
      timeoutMs: 60_000,
      onStdout: (t) => {
        seen += t;
      },
    });
    await waitUntil(() => bed.api.seen.some((s) => /\/pods\?.*watch=true/.test(s.url)));
    bed.api.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'late-1', namespace: 'default' },
      spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] },
    });
    await waitUntil(() => seen.includes('late-1'));
    bed.api.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'late-2', namespace: 'default' },
      spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] },
    });
    await waitUntil(() => seen.includes('late-2'));
    // Both arrived while the watch is still running: nothing waited for the end of the stream.
    expect(abort.signal.aborted).toBe(false);
    abort.abort();
    await watching.catch(() => undefined);
    expect(seen).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n/);
    expect(seen).toMatch(/late-1\s+1\/1\s+Running/);
    const watch = bed
      .events('command')
      .filter((e) => /\/pods\?.*watch=true/.test(String(e.data['text'])))
      .at(-1);
    expect(watch?.data['attributes']).toMatchObject({ verb: 'watch', resource: 'pods' });
  });

  it('are judged as watches: a rule on watching Secrets refuses -w but not a get', async () => {
    const list = await bed.kubectlAs(agent, ['get', 'secrets']);
    expect(list.code, list.stderr).toBe(0);
    const watched = await bed.kubectlAs(agent, ['get', 'secrets', '--watch-only'], { timeoutMs: 20_000 });
    expect(watched.code).toBe(1);
    expect(watched.stderr).toContain('watching secrets is not allowed (rule no-secret-watch)');
  });
});

describe('large lists', () => {
  it('are paged by kubectl through the gateway, continue tokens untouched', async () => {
    const before = bed.api.seen.length;
    const r = await bed.kubectlAs(agent, ['get', 'configmaps', '-n', 'big', '--no-headers'], {
      timeoutMs: 60_000,
    });
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout.trim().split('\n');
    expect(rows).toHaveLength(CONFIGMAPS);
    expect(rows.at(-1)).toMatch(/^settings-1199\s+2\s+\d+s$/);
    const pages = bed.api.seen.slice(before).filter((s) => /\/namespaces\/big\/configmaps\?/.test(s.url));
    expect(pages.map((s) => new URL(s.url, 'https://x').searchParams.get('limit'))).toEqual([
      '500',
      '500',
      '500',
    ]);
    expect(pages.filter((s) => s.url.includes('continue=')).length).toBe(2);
  });

  it('arrive byte for byte as the cluster sent them, multi-megabyte', async () => {
    const path = '/api/v1/namespaces/big/configmaps';
    const direct = await curl([
      '--cacert',
      join(bed.dir, 'fixture-ca.pem'),
      '-H',
      `Authorization: Bearer ${bed.api.token}`,
      `${bed.api.url}${path}`,
    ]);
    const through = await curl([
      '--cacert',
      caFile,
      '-H',
      `Authorization: Bearer ${agentToken}`,
      `${bed.gatewayUrl}${path}`,
    ]);
    expect(through.status).toBe(200);
    expect(direct.body.length).toBeGreaterThan(2_500_000);
    expect(through.body).toBe(direct.body);
    const command = bed
      .events('command')
      .filter((e) => e.data['text'] === `GET ${path}`)
      .at(-1);
    await waitUntil(() => bed.events('result').some((e) => e.data['command'] === command?.seq));
    expect(bed.events('result').find((e) => e.data['command'] === command?.seq)?.data).toMatchObject({
      status: 'ok',
      bytes: Buffer.byteLength(through.body),
    });
  });
});
