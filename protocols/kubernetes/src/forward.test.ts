import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { Agent, createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Masker } from '@gatehouse/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ForwardOutcome, forward } from './forward.js';
import { loadGatewayCertificate } from './gateway-tls.js';
import { parseKubernetesOptions } from './options.js';

const passThrough: Masker = { maskValue: (_c, t) => t, maskText: (t) => t };

let dir: string;
let cluster: ReturnType<typeof createHttpsServer>;
let front: Server;
let frontPort: number;
let answer: { status: number; body: string; cut?: boolean } = { status: 200, body: '{}' };
const outcomes: ForwardOutcome[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kube-forward-'));
  const cert = await loadGatewayCertificate({
    options: parseKubernetesOptions({}),
    dataDir: dir,
    connection: 'fake-cluster',
    listenHost: '127.0.0.1',
  });
  cluster = createHttpsServer({ cert: cert.certPem, key: cert.keyPem }, (_req, res) => {
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    if (answer.cut !== true) return void res.end(answer.body);
    // A watch that dies: what was sent so far, then the connection is cut.
    res.write(answer.body, () => setTimeout(() => res.socket?.destroy(), 50));
  });
  await new Promise<void>((r) => cluster.listen(0, '127.0.0.1', r));
  const clusterPort = (cluster.address() as AddressInfo).port;
  const agent = new Agent({ ca: cert.caPem, keepAlive: true });
  front = createHttpServer((req, res) => {
    void forward({
      req,
      res,
      upstream: {
        url: new URL(`https://127.0.0.1:${clusterPort}`),
        host: `127.0.0.1:${clusterPort}`,
        basePath: '',
        credentials: async () => ({ headers: { authorization: 'Bearer gateway-sa' }, tls: {}, secrets: [] }),
      },
      credentials: { headers: { authorization: 'Bearer gateway-sa' }, tls: {}, secrets: [] },
      agent,
      path: req.url ?? '/',
      rawHeaders: [],
      body: undefined,
      clientAddress: '127.0.0.1',
      masker: passThrough,
      mustMask: false,
      timeoutMs: 5_000,
      maxJsonTokenChars: 1 << 20,
      closeAfter: () => false,
      stream: (req.url ?? '').includes('watch=true'),
      watch: (req.url ?? '').includes('watch=true'),
    }).then((o) => outcomes.push(o));
  });
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  frontPort = (front.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((r) => front.close(r));
  cluster.closeAllConnections();
  await new Promise((r) => cluster.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe('forward', () => {
  it("answers a cluster's 401 as a 502 about the gateway's credentials, not the client's", async () => {
    answer = {
      status: 401,
      body: JSON.stringify({ kind: 'Status', status: 'Failure', message: 'Unauthorized', code: 401 }),
    };
    const res = await fetch(`http://127.0.0.1:${frontPort}/api/v1/namespaces/default/pods`);
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({
      kind: 'Status',
      reason: 'BadGateway',
      code: 502,
      message: expect.stringContaining("the cluster refused the gateway's credentials (401 Unauthorized)"),
    });
    expect(outcomes.at(-1)).toMatchObject({ status: 502, error: { code: 'upstream_error' } });
  });

  it("relays the cluster's other errors unchanged", async () => {
    answer = {
      status: 403,
      body: JSON.stringify({ kind: 'Status', status: 'Failure', message: 'pods is forbidden', code: 403 }),
    };
    const res = await fetch(`http://127.0.0.1:${frontPort}/api/v1/namespaces/default/pods`);
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ message: 'pods is forbidden' });
  });

  const event = JSON.stringify({ type: 'ADDED', object: { kind: 'Pod', metadata: { name: 'web-1' } } });

  it('ends a watch the cluster cut between two events with an ERROR event, as the API server does', async () => {
    answer = { status: 200, body: `${event}\n`, cut: true };
    const res = await fetch(`http://127.0.0.1:${frontPort}/api/v1/namespaces/default/pods?watch=true`);
    expect(res.status).toBe(200);
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      JSON.parse(event),
      {
        type: 'ERROR',
        object: expect.objectContaining({
          kind: 'Status',
          code: 502,
          message: 'the cluster closed the connection in the middle of the watch',
        }),
      },
    ]);
    await expect
      .poll(() => outcomes.at(-1)?.error?.message)
      .toBe('the cluster closed the connection in the middle of the watch');
  });

  it('cuts the client connection when the cluster cut a watch in the middle of an event', async () => {
    answer = { status: 200, body: `${event}\n${event.slice(0, 20)}`, cut: true };
    const res = await fetch(`http://127.0.0.1:${frontPort}/api/v1/namespaces/default/pods?watch=true`);
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
    await expect
      .poll(() => outcomes.at(-1)?.error?.message)
      .toBe('the cluster closed the connection in the middle of the response');
  });
});
