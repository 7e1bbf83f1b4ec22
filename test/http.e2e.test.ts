/**
 * The HTTP module end to end through a gateway started from a config file — the real policy
 * engine and masker, the SQLite session log, development-issuer tokens, the admin API — with real
 * clients (curl, and Node's fetch on a kept-alive connection) against a real local HTTP API:
 * allowed and denied methods, JSON masked by field rules and detectors (with an exemption), a
 * large masked body that streams, a streamed upload, a review approved with the CLI, and an
 * upstream that goes down and comes back.
 */
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parseConfig } from '@gatehouse/config';
import { silentLogger } from '@gatehouse/core';
import { builtinModules, type RunningGateway, startFromConfig } from '@gatehouse/gateway';
import { type DevIssuer, loadOrCreateDevIssuer } from '@gatehouse/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, run, runCli, tempDir } from './support/cli.js';

const UPSTREAM_TOKEN = 'upstream-api-key-7f3a9c2e51';
const CUSTOMER = {
  id: 7,
  name: 'Jane Doe',
  email: 'jane.doe@example.com',
  card: '4111 1111 1111 1111',
  note: 'call +44 20 7946 0958 after 5pm',
  orders: [{ sku: 'SKU-1', total: 12.5 }],
};

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** A small API in this process, so the test can see what reached it; restartable on its port. */
class Api {
  readonly seen: { method: string; url: string; headers: IncomingMessage['headers']; bytes: number }[] = [];
  readonly routes = new Map<string, Handler>();
  #server: Server | undefined;
  port = 0;

  async start(port = 0): Promise<void> {
    this.#server = createServer((req, res) => {
      let bytes = 0;
      req.on('data', (c: Buffer) => {
        bytes += c.length;
      });
      req.on('end', () => {
        this.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, bytes });
        const handler = this.routes.get(`${req.method} ${(req.url ?? '').split('?')[0]}`);
        if (handler === undefined) {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end('{"error":"not found"}');
          return;
        }
        void handler(req, res);
      });
    });
    this.#server.keepAliveTimeout = 30_000;
    this.#server.listen(port, '127.0.0.1');
    await once(this.#server, 'listening');
    this.port = (this.#server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    this.#server = undefined;
  }
}

let api: Api;
let running: RunningGateway;
let issuer: DevIssuer;
let dir: string;
let configFile: string;
let url: string;
let adminUrl: string;
let agent: string;
let support: string;

beforeAll(async () => {
  api = new Api();
  await api.start();
  api.routes.set('GET /customers/7', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(CUSTOMER));
  });
  api.routes.set('HEAD /customers/7', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': 10 });
    res.end();
  });
  api.routes.set('POST /customers', (req, res) => {
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ created: true, bytes: api.seen.at(-1)?.bytes, echo: req.headers['x-note'] }));
  });
  api.routes.set('POST /refunds', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"refunded":true}');
  });
  dir = tempDir('gatehouse-http-e2e-');
  const adminPort = await freePort();
  const text = `dataDir: ./data
identity:
  devIssuer: { enabled: true }
admin:
  listen: 127.0.0.1:${adminPort}
approvals:
  approverGroups: [approvers]
  timeout: 20s
masking:
  rules:
    - { name: cards, columns: [card], style: partial }
    - { name: contacts, detectors: [email, phone], style: full, exemptGroups: [support] }
connections:
  - name: crm
    protocol: http
    listen: 127.0.0.1:0
    access: { groups: [agents, support] }
    upstream:
      url: "http://127.0.0.1:${api.port}"
      headers: { authorization: "Bearer ${UPSTREAM_TOKEN}" }
    policy:
      rules:
        - { id: no-deletes, action: deny, message: deleting customers is not allowed, http: { methods: [DELETE] } }
        - { id: refunds, action: review, message: refunds need an approver, http: { methods: [POST], paths: [/refunds] } }
        - { id: reads, action: allow, http: { methods: [GET, HEAD], paths: ["/**"] } }
        - { id: create, action: allow, http: { methods: [POST], paths: [/customers] } }
      defaultAction: deny
`;
  configFile = join(dir, 'gatehouse.yaml');
  writeFileSync(configFile, text);
  const config = parseConfig(text, { file: 'gatehouse.yaml', baseDir: dir });
  running = await startFromConfig(config, { modules: builtinModules(), logger: silentLogger });
  url = `http://127.0.0.1:${running.gateway.addresses()['crm']?.port}`;
  adminUrl = `http://127.0.0.1:${adminPort}`;
  issuer = await loadOrCreateDevIssuer(config.dataDir);
  agent = await issuer.issue({ sub: 'agent-1', groups: ['agents'], ttl: 3_600_000 });
  support = await issuer.issue({ sub: 'lead-1', groups: ['support'], ttl: 3_600_000 });
});

afterAll(async () => {
  await running?.close();
  await api?.stop();
});

async function curl(args: string[]): Promise<{ status: number; body: string }> {
  const r = await run('curl', ['-sS', '-w', '\n%{http_code}', ...args]);
  const cut = r.stdout.lastIndexOf('\n');
  return { status: Number(r.stdout.slice(cut + 1)), body: r.stdout.slice(0, cut) };
}

const bearer = (token: string) => ['-H', `Authorization: Bearer ${token}`];

function events(type: string) {
  return running.log.reader().eventsOfType(type);
}

async function resultFor(text: string) {
  for (let i = 0; i < 200; i++) {
    const command = events('command').findLast((e) => e.data['text'] === text);
    const result = events('result').find((e) => e.data['command'] === command?.seq);
    if (result !== undefined) return result.data;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no result logged for ${text}`);
}

describe('curl through the HTTP module', () => {
  it('forwards an allowed GET with the gateway credential and masks the JSON by rule', async () => {
    const before = api.seen.length;
    const r = await curl([...bearer(agent), `${url}/customers/7`]);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({
      ...CUSTOMER,
      email: '****',
      card: '**** **** **** 1111',
      note: 'call **** after 5pm',
    });
    const seen = api.seen.slice(before);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.headers.authorization).toBe(`Bearer ${UPSTREAM_TOKEN}`);
    expect(await resultFor('GET /customers/7')).toMatchObject({
      status: 'ok',
      summary: '200',
      bytes: Buffer.byteLength(r.body),
      data: { status: 200 },
    });
    // Neither the caller's token nor the gateway's credential is in the log.
    const log = JSON.stringify(running.log.reader().events(String(events('command').at(-1)?.sessionId)));
    expect(log).not.toContain(agent.slice(-24));
    expect(log).not.toContain(UPSTREAM_TOKEN);
  });

  it('shows an identity exempt from a rule what the rule masks, and nothing more', async () => {
    const r = await curl([...bearer(support), `${url}/customers/7`]);
    expect(JSON.parse(r.body)).toEqual({ ...CUSTOMER, card: '**** **** **** 1111' });
  });

  it('refuses a denied method with the rule message, and a method no rule allows', async () => {
    const before = api.seen.length;
    const del = await curl(['-X', 'DELETE', ...bearer(agent), `${url}/customers/7`]);
    expect(del.status).toBe(403);
    expect(JSON.parse(del.body)).toEqual({
      error: { code: 'policy_denied', message: 'deleting customers is not allowed (rule no-deletes)' },
    });
    const put = await curl(['-X', 'PUT', ...bearer(agent), '--data', '{}', `${url}/customers/7`]);
    expect(put.status).toBe(403);
    expect(JSON.parse(put.body).error.code).toBe('policy_denied');
    expect(api.seen.length).toBe(before);
    expect(events('decision').at(-1)?.data).toMatchObject({ action: 'deny' });
  });

  it('streams a large upload to the API and records its size', async () => {
    const file = join(dir, 'upload.json');
    const size = 16 * 1024 * 1024;
    writeFileSync(file, Buffer.alloc(size, 0x61));
    const r = await curl([
      ...bearer(agent),
      '-H',
      'Content-Type: application/json',
      '-H',
      'X-Note: big',
      '--data-binary',
      `@${file}`,
      `${url}/customers`,
    ]);
    expect(r.status).toBe(201);
    expect(JSON.parse(r.body)).toEqual({ created: true, bytes: size, echo: 'big' });
    expect(await resultFor('POST /customers')).toMatchObject({ data: { requestBytes: size } });
  });

  it('holds a reviewed request until an approver approves it with the CLI', async () => {
    const held = curl(['-X', 'POST', ...bearer(agent), `${url}/refunds`]);
    const approver = await issuer.issue({ sub: 'alice', groups: ['approvers'] });
    let id: string | undefined;
    for (let i = 0; i < 100 && id === undefined; i++) {
      const listed = await runCli(
        ['approvals', 'list', '--state', 'pending', '--json', '--server', adminUrl],
        {
          env: { GATEHOUSE_TOKEN: approver },
        },
      );
      id = (JSON.parse(listed.stdout || '[]') as { id: string; command: { text: string } }[]).find((a) =>
        a.command.text.startsWith('POST /refunds'),
      )?.id;
      if (id === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    expect(id).toBeDefined();
    expect(api.seen.some((s) => s.url === '/refunds')).toBe(false);
    const approved = await runCli(['approvals', 'approve', String(id), '--server', adminUrl], {
      env: { GATEHOUSE_TOKEN: approver },
    });
    expect(approved.code, approved.stderr).toBe(0);
    expect(await held).toEqual({ status: 200, body: '{"refunded":true}' });
  });
});

describe('fetch through the HTTP module', () => {
  it('answers allowed and denied methods, a denial leaving the kept-alive connection open', async () => {
    const headers = { authorization: `Bearer ${agent}` };
    const get = await fetch(`${url}/customers/7`, { headers });
    expect(get.status).toBe(200);
    expect((await get.json()) as unknown).toMatchObject({ email: '****', card: '**** **** **** 1111' });
    const head = await fetch(`${url}/customers/7`, { method: 'HEAD', headers });
    expect(head.status).toBe(200);
    const denied = await fetch(`${url}/customers/7`, { method: 'DELETE', headers });
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { error: { code: string } }).error.code).toBe('policy_denied');
    const unauthenticated = await fetch(`${url}/customers/7`);
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get('www-authenticate')).toBe('Bearer');
    const judged = events('command').slice(-3);
    expect(judged.map((e) => e.data['text'])).toEqual([
      'GET /customers/7',
      'HEAD /customers/7',
      'DELETE /customers/7',
    ]);
    // fetch sends HEAD on a connection of its own; the denial came on the GET's, which stayed open.
    expect(judged[2]?.sessionId).toBe(judged[0]?.sessionId);
  });

  it('streams a large masked JSON body: lines arrive before the API has finished, masked', async () => {
    let release!: () => void;
    const clientSawData = new Promise<void>((r) => {
      release = r;
    });
    let upstreamDone = false;
    const lines = 50_000;
    api.routes.set('GET /export', async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      for (let i = 0; i < lines; i++) {
        // Half way, wait for the client: proof that the gateway does not hold the body back.
        if (i === lines / 2) await clientSawData;
        const line = `${JSON.stringify({ i, email: `user${i}@example.com`, card: '4111111111111111', ok: true })}\n`;
        if (!res.write(line)) await once(res, 'drain');
      }
      upstreamDone = true;
      res.end();
    });
    const res = await fetch(`${url}/export`, { headers: { authorization: `Bearer ${agent}` } });
    expect(res.status).toBe(200);
    let text = '';
    let doneAtFirstBytes: boolean | undefined;
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      doneAtFirstBytes ??= upstreamDone;
      text += decoder.decode(chunk, { stream: true });
      if (text.length > 100_000) release();
    }
    expect(doneAtFirstBytes).toBe(false);
    const got = text.trimEnd().split('\n');
    expect(got).toHaveLength(lines);
    expect(JSON.parse(got[12_345] as string)).toEqual({
      i: 12_345,
      email: '****',
      card: '************1111',
      ok: true,
    });
    expect(text).not.toContain('@example.com');
    expect(text).not.toContain('4111111111111111');
    expect(await resultFor('GET /export')).toMatchObject({ status: 'ok', bytes: Buffer.byteLength(text) });
  });

  it('answers 502 while the API is down, and the same connection works once it is back', async () => {
    const headers = { authorization: `Bearer ${agent}` };
    expect((await fetch(`${url}/customers/7`, { headers })).status).toBe(200);
    const port = api.port;
    await api.stop();
    const down = await fetch(`${url}/customers/7`, { headers });
    expect(down.status).toBe(502);
    expect(await down.json()).toEqual({
      error: { code: 'upstream_error', message: 'the upstream refused the connection' },
    });
    expect(await resultFor('GET /customers/7')).toMatchObject({
      status: 'error',
      summary: '502',
      error: { code: 'upstream_error' },
    });
    const viaCurl = await curl([...bearer(agent), `${url}/customers/7`]);
    expect(viaCurl.status).toBe(502);
    await api.start(port);
    const back = await fetch(`${url}/customers/7`, { headers });
    expect(back.status).toBe(200);
    expect(((await back.json()) as { email: string }).email).toBe('****');
  });
});
