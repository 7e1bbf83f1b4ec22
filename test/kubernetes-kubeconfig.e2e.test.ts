/**
 * `gatehouse kubeconfig`: the printed kubeconfig works with real kubectl against the gateway —
 * with a development token in it, with an exec credential plugin that fetches a fresh token for
 * every kubectl run, or with a given token.
 */
import { execFile } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { type KubeBed, startKubeBed } from './fixtures/kube-apiserver/gateway-bed.js';
import { kubectl } from './fixtures/kube-apiserver/kubectl.js';
import { makeTls } from './fixtures/kube-apiserver/tls.js';
import { CLI as GATEHOUSE } from './support/cli.js';

let bed: KubeBed;

beforeAll(async () => {
  bed = await startKubeBed({ policy: '      rules: []\n' });
  bed.api.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-1', namespace: 'default' },
    spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] },
  });
});

afterAll(async () => {
  await bed?.close();
});

async function gatehouse(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [GATEHOUSE, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const base = () => [
  'kubeconfig',
  '--connection',
  'cluster',
  '--config',
  bed.configFile,
  '--server',
  bed.gatewayUrl,
];

describe('gatehouse kubeconfig', () => {
  it('prints a kubeconfig with the gateway CA and a development token that kubectl uses', async () => {
    const out = await gatehouse([
      ...base(),
      '--sub',
      'agent-1',
      '--groups',
      'agents',
      '--namespace',
      'default',
    ]);
    expect(out.code, out.stderr).toBe(0);
    const doc = parseYaml(out.stdout);
    expect(doc.clusters[0].cluster).toEqual({
      server: bed.gatewayUrl,
      'certificate-authority-data': Buffer.from(bed.caPem).toString('base64'),
    });
    expect(doc['current-context']).toBe('cluster');
    const file = join(bed.dir, 'issued.kubeconfig');
    writeFileSync(file, out.stdout);
    const pods = await kubectl(['get', 'pods'], { kubeconfig: file });
    expect(pods.stdout).toContain('web-1');
    const auth = bed.events('auth').at(-1);
    expect(auth?.data).toMatchObject({ outcome: 'success', subject: 'agent-1', groups: ['agents'] });
  });

  it('writes an exec plugin that fetches a fresh ExecCredential for each run', async () => {
    const bin = join(bed.dir, 'gatehouse');
    writeFileSync(bin, `#!/bin/sh\nexec ${process.execPath} ${GATEHOUSE} "$@"\n`);
    chmodSync(bin, 0o755);
    const out = await gatehouse([
      ...base(),
      '--exec',
      '--exec-command',
      bin,
      '--sub',
      'agent-2',
      '--groups',
      'agents',
    ]);
    expect(out.code, out.stderr).toBe(0);
    const user = parseYaml(out.stdout).users[0].user;
    expect(user.token).toBeUndefined();
    expect(user.exec).toMatchObject({
      apiVersion: 'client.authentication.k8s.io/v1',
      command: bin,
      interactiveMode: 'Never',
    });
    const credential = await gatehouse(user.exec.args);
    expect(JSON.parse(credential.stdout)).toMatchObject({
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      status: { token: expect.stringMatching(/^ey/), expirationTimestamp: expect.stringMatching(/Z$/) },
    });
    const file = join(bed.dir, 'exec.kubeconfig');
    writeFileSync(file, out.stdout);
    const pods = await kubectl(['get', 'pods'], { kubeconfig: file });
    expect(pods.stdout, pods.stderr).toContain('web-1');
    expect(bed.events('auth').at(-1)?.data).toMatchObject({ outcome: 'success', subject: 'agent-2' });
  });

  it('puts a given token in as is, and explains what is missing or wrong', async () => {
    const given = await gatehouse([...base(), '--token', 'abc.def.ghi']);
    expect(parseYaml(given.stdout).users[0].user).toEqual({ token: 'abc.def.ghi' });
    const none = await gatehouse(base());
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--token TOKEN, or --sub SUBJECT');
    const unknown = await gatehouse([
      'kubeconfig',
      '--connection',
      'nope',
      '--config',
      bed.configFile,
      '--token',
      'x',
    ]);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain('no connection "nope"');
    const port0 = await gatehouse([
      'kubeconfig',
      '--connection',
      'cluster',
      '--config',
      bed.configFile,
      '--token',
      'x',
    ]);
    expect(port0.stderr).toContain('pass --server URL');
  });
});

describe("the cluster's certificate", () => {
  let impostor: KubeBed;
  beforeAll(async () => {
    // The gateway's kubeconfig trusts some other CA than the one that signed the cluster's certificate.
    impostor = await startKubeBed({ policy: '      rules: []\n', upstreamCaPem: makeTls().caPem });
  });
  afterAll(async () => {
    await impostor?.close();
  });

  it('is verified against the kubeconfig CA: no request reaches a cluster that does not match', async () => {
    const kubeconfig = await impostor.kubeconfigFor('agent-1', ['agents']);
    const r = await kubectl(['get', 'pods', '--request-timeout=5s'], { kubeconfig });
    expect(r.code).toBe(1);
    // The TLS handshake fails, so not even a request line reaches it.
    expect(impostor.api.seen).toEqual([]);
    const result = impostor.events('result').at(-1);
    expect(result?.data).toMatchObject({ status: 'error', summary: '502' });
    expect(result?.data['error']).toMatchObject({
      message: expect.stringMatching(/TLS certificate was rejected/),
    });
  });
});
