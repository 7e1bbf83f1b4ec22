/**
 * Writes through the Kubernetes module: every patch type is forwarded only when its body decodes
 * as the API server will decode it (refused otherwise, before anything reaches the cluster), and
 * server-side dry runs are judged as what they would do — a dry-run patch in a frozen namespace is
 * refused by the rule on patches, a dry-run create is allowed and stores nothing.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubeBed, startKubeBed } from './fixtures/kube-apiserver/gateway-bed.js';

const POLICY = `      rules:
        - id: frozen-prod
          action: deny
          message: prod is frozen
          kubernetes: { namespaces: [prod], verbs: [create, update, patch, delete] }
`;

let bed: KubeBed;
let agent: string;
let agentToken: string;
let caFile: string;

beforeAll(async () => {
  bed = await startKubeBed({ policy: POLICY, options: '      maxPatchBytes: 65536\n' });
  agent = await bed.kubeconfigFor('agent-1', ['agents']);
  agentToken = await bed.issuer.issue({ sub: 'agent-1', groups: ['agents'] });
  caFile = join(bed.dir, 'gateway-ca.pem');
  writeFileSync(caFile, bed.caPem);
  bed.api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'prod' } });
  for (const ns of ['default', 'prod']) {
    bed.api.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web-1', namespace: ns, labels: { app: 'web' } },
      spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] },
    });
    bed.api.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings', namespace: ns },
      data: { mode: 'fast' },
    });
  }
});

afterAll(async () => {
  await bed?.close();
});

async function curl(args: string[]): Promise<{ status: number; body: string }> {
  const { stdout } = await promisify(execFile)('curl', [
    '-sS',
    '--cacert',
    caFile,
    '-w',
    '\n%{http_code}',
    ...args,
  ]);
  const cut = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) };
}

function lastCommand(pattern: RegExp) {
  return bed
    .events('command')
    .filter((e) => pattern.test(String(e.data['text'])))
    .at(-1);
}

describe('patch bodies', () => {
  it('forwards patches only when their body decodes', async () => {
    const auth = ['-H', `Authorization: Bearer ${agentToken}`];
    const url = `${bed.gatewayUrl}/api/v1/namespaces/default/pods/web-1`;
    const cases: [string, string, number][] = [
      ['application/json-patch+json', '{"op":"add"}', 400],
      ['application/json-patch+json', '[{"op":"frobnicate","path":"/x"}]', 400],
      ['application/merge-patch+json', '{"metadata":', 400],
      ['application/strategic-merge-patch+json', '[1,2]', 400],
      ['application/apply-patch+yaml', 'a: 1\na: 2\n', 400],
      ['application/apply-patch+cbor', 'x', 415],
      ['text/plain', 'x', 415],
    ];
    const before = bed.api.seen.length;
    for (const [type, body, status] of cases) {
      const r = await curl([
        '-X',
        'PATCH',
        ...auth,
        '-H',
        `Content-Type: ${type}`,
        '--data-binary',
        body,
        url,
      ]);
      expect(r.status, `${type} ${body}`).toBe(status);
      expect(JSON.parse(r.body)).toMatchObject({ kind: 'Status', code: status });
    }
    expect(bed.api.seen.length).toBe(before);
    const good = await curl([
      '-X',
      'PATCH',
      ...auth,
      '-H',
      'Content-Type: application/merge-patch+json',
      '--data-binary',
      '{"metadata":{"labels":{"tier":"web"}}}',
      url,
    ]);
    expect(good.status).toBe(200);
    expect(bed.api.get('pods', 'default', 'web-1')?.['metadata'].labels).toMatchObject({ tier: 'web' });
  });

  it('forwards every patch type that decodes, and logs which it was', async () => {
    const auth = ['-H', `Authorization: Bearer ${agentToken}`];
    const url = `${bed.gatewayUrl}/api/v1/namespaces/default/configmaps/settings`;
    const cases: [string, string, string, string][] = [
      ['application/json-patch+json', '[{"op":"add","path":"/data/a","value":"1"}]', 'json', '?'],
      ['application/merge-patch+json', '{"data":{"b":"2"}}', 'merge', '?'],
      ['application/strategic-merge-patch+json', '{"data":{"c":"3"}}', 'strategic', '?'],
      [
        'application/apply-patch+yaml',
        'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: settings, namespace: default }\ndata: { d: "4" }\n',
        'apply',
        '?fieldManager=e2e&force=true',
      ],
    ];
    for (const [type, body, patchType, query] of cases) {
      const r = await curl([
        '-X',
        'PATCH',
        ...auth,
        '-H',
        `Content-Type: ${type}`,
        '--data-binary',
        body,
        `${url}${query}`,
      ]);
      expect(r.status, `${type}: ${r.body}`).toBe(200);
      expect(lastCommand(/^PATCH .*configmaps\/settings/)?.data['attributes']).toMatchObject({
        verb: 'patch',
        patchType,
      });
    }
    expect(bed.api.get('configmaps', 'default', 'settings')?.['data']).toMatchObject({
      a: '1',
      b: '2',
      c: '3',
      d: '4',
    });
  });

  it('refuses a compressed or oversized patch body before anything reaches the cluster', async () => {
    const auth = ['-H', `Authorization: Bearer ${agentToken}`];
    const url = `${bed.gatewayUrl}/api/v1/namespaces/default/configmaps/settings`;
    const before = bed.api.seen.length;
    const file = join(bed.dir, 'patch.gz');
    writeFileSync(file, gzipSync('{"data":{"z":"1"}}'));
    const zipped = await curl([
      '-X',
      'PATCH',
      ...auth,
      '-H',
      'Content-Type: application/merge-patch+json',
      '-H',
      'Content-Encoding: gzip',
      '--data-binary',
      `@${file}`,
      url,
    ]);
    expect(zipped.status).toBe(415);
    expect(JSON.parse(zipped.body)).toMatchObject({ kind: 'Status', reason: 'UnsupportedMediaType' });
    const big = join(bed.dir, 'big-patch.json');
    writeFileSync(big, JSON.stringify({ data: { z: 'x'.repeat(70_000) } }));
    const oversized = await curl([
      '-X',
      'PATCH',
      ...auth,
      '-H',
      'Content-Type: application/merge-patch+json',
      '--data-binary',
      `@${big}`,
      url,
    ]);
    expect(oversized.status).toBe(413);
    expect(JSON.parse(oversized.body)).toMatchObject({ kind: 'Status', code: 413 });
    expect(bed.api.seen.length).toBe(before);
  });
});

describe('dry runs', () => {
  it('are judged as what they would do: a dry-run patch in a frozen namespace is refused', async () => {
    const before = bed.api.seen.length;
    const r = await bed.kubectlAs(agent, [
      'patch',
      'configmap',
      'settings',
      '-n',
      'prod',
      '-p',
      '{"data":{"mode":"slow"}}',
      '--dry-run=server',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('Error from server (Forbidden): prod is frozen (rule frozen-prod)\n');
    expect(bed.api.seen.slice(before).some((s) => s.method === 'PATCH')).toBe(false);
    expect(
      lastCommand(/^PATCH .*prod\/configmaps\/settings\?.*dryRun=All/)?.data['attributes'],
    ).toMatchObject({
      verb: 'patch',
      dryRun: true,
    });
  });

  it('are forwarded when allowed, and change nothing', async () => {
    const before = bed.api.seen.length;
    const r = await bed.kubectlAs(agent, [
      'patch',
      'configmap',
      'settings',
      '-p',
      '{"data":{"mode":"dry"}}',
      '--dry-run=server',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('configmap/settings patched\n');
    const forwarded = bed.api.seen.slice(before).filter((s) => s.method === 'PATCH');
    expect(forwarded.map((s) => new URL(s.url, 'https://x').searchParams.get('dryRun'))).toEqual(['All']);
    expect(bed.api.get('configmaps', 'default', 'settings')?.['data'].mode).not.toBe('dry');
  });
});
