/**
 * HTTP upstream faults with curl through a gateway started from a config file (SQLite session log):
 * the API dies in the middle of a streamed body, drops every connection, and refuses the gateway's
 * credential. The client is told in HTTP terms (a cut chunked body, a 502 with a JSON error, the
 * API's own 401), the request's result is logged, the gateway does not retry behind the client's
 * back, and the next request is served.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parseConfig } from '@gatehouse/config';
import { type StoredEvent, silentLogger } from '@gatehouse/core';
import { builtinModules, type RunningGateway, startFromConfig } from '@gatehouse/gateway';
import { loadOrCreateDevIssuer } from '@gatehouse/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, tempDir } from '../support/cli.js';
import { waitUntil } from './support.js';
import { type CountingUpstream, startCountingUpstream } from './upstream-counter.js';

const GATEWAY_KEY = 'gateway-held-api-key-91c2';
const STALE_KEY = 'stale-api-key-rotated-away-55d1';

let api: Server;
let apiPort: number;
const seen: { url: string; authorization?: string }[] = [];
const streams = new Set<ServerResponse>();
let counting: CountingUpstream;
let running: RunningGateway;
let agent: string;
const urls: Record<string, string> = {};

beforeAll(async () => {
  api = createServer((req, res) => {
    seen.push({
      url: req.url ?? '',
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
    });
    if (req.headers.authorization !== `Bearer ${GATEWAY_KEY}`) {
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' });
      res.end('{"error":"invalid api key"}');
      return;
    }
    if (req.url === '/events') {
      // An endless NDJSON feed; the test cuts it.
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      streams.add(res);
      let n = 0;
      const timer = setInterval(() => res.write(`${JSON.stringify({ n: n++, at: 'feed' })}\n`), 10);
      res.on('close', () => {
        clearInterval(timer);
        streams.delete(res);
      });
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  apiPort = (api.address() as AddressInfo).port;
  counting = await startCountingUpstream();
  const dir = tempDir('gatehouse-http-faults-');
  const connection = (name: string, port: number, key: string) => `  - name: ${name}
    protocol: http
    listen: 127.0.0.1:0
    access: { groups: [agents] }
    upstream:
      url: "http://127.0.0.1:${port}"
      headers: { authorization: "Bearer ${key}" }
    policy: { defaultAction: allow, rules: [] }
`;
  const text = `dataDir: ./data
identity:
  devIssuer: { enabled: true }
admin: { enabled: false }
connections:
${connection('api', apiPort, GATEWAY_KEY)}${connection('dropping', counting.port, GATEWAY_KEY)}${connection('stale', apiPort, STALE_KEY)}`;
  writeFileSync(join(dir, 'gatehouse.yaml'), text);
  const config = parseConfig(text, { file: 'gatehouse.yaml', baseDir: dir });
  running = await startFromConfig(config, { modules: builtinModules(), logger: silentLogger });
  for (const name of ['api', 'dropping', 'stale'])
    urls[name] = `http://127.0.0.1:${running.gateway.addresses()[name]?.port}`;
  const issuer = await loadOrCreateDevIssuer(config.dataDir);
  agent = await issuer.issue({ sub: 'agent-1', groups: ['agents'], ttl: 3_600_000 });
}, 60_000);

afterAll(async () => {
  await running?.close();
  await counting?.close();
  api?.closeAllConnections();
  await new Promise((r) => api?.close(r));
});

const bearer = () => ['-H', `Authorization: Bearer ${agent}`];

function events(type: string): StoredEvent[] {
  return running.log.reader().eventsOfType(type);
}

/** Results logged after `since` in sessions of `connection`. */
async function resultsAfter(
  since: number,
  count: number,
  connection: string,
): Promise<Record<string, unknown>[]> {
  return waitUntil(`${count} results`, () => {
    const sessions = new Set(
      events('session.start')
        .filter((e) => e.data['connection'] === connection)
        .map((e) => e.sessionId),
    );
    const r = events('result').filter((e) => e.seq > since && sessions.has(e.sessionId));
    return r.length >= count ? r.map((e) => e.data) : undefined;
  });
}

const lastSeq = (): number => running.log.reader().eventCount();

async function servesNext(): Promise<void> {
  const r = await run('curl', ['-sS', ...bearer(), `${urls['api']}/ping`]);
  expect(r.code, r.stderr).toBe(0);
  expect(JSON.parse(r.stdout)).toEqual({ ok: true });
}

describe('API dies in the middle of a streamed body', () => {
  it('curl sees the body cut short, the result says so, and the next request is served', async () => {
    const since = lastSeq();
    const curl = run('curl', ['-sS', '-N', ...bearer(), `${urls['api']}/events`]);
    await waitUntil('the feed to be flowing', () => (streams.size > 0 ? true : undefined));
    await new Promise((r) => setTimeout(r, 200));
    for (const s of streams) s.socket?.destroy();
    const r = await curl;
    // 18: "transfer closed with outstanding read data remaining" — HTTP/1.1's way of saying a body
    // was cut, since the status line has long been sent.
    expect(r.code).toBe(18);
    expect(r.stderr).toMatch(/transfer closed with outstanding read data remaining/);
    expect(r.stdout).toContain('"at":"feed"');
    const [result] = await resultsAfter(since, 1, 'api');
    expect(result).toMatchObject({ status: 'error', error: { code: 'upstream_error' } });
    await servesNext();
  });
});

describe('API unreachable or refusing', () => {
  it('an API that drops every connection: 502 with a JSON error, one upstream connection per request', async () => {
    const since = lastSeq();
    const before = counting.accepted();
    const attempts = 3;
    for (let i = 0; i < attempts; i++) {
      const r = await run('curl', ['-sS', '-w', '\n%{http_code}', ...bearer(), `${urls['dropping']}/ping`]);
      const [body, status] = r.stdout.split('\n');
      expect(status).toBe('502');
      expect(JSON.parse(body ?? '')).toMatchObject({ error: { code: 'upstream_error' } });
    }
    const results = await resultsAfter(since, attempts, 'dropping');
    for (const r of results)
      expect(r).toMatchObject({ status: 'error', summary: '502', error: { code: 'upstream_error' } });
    await new Promise((r) => setTimeout(r, 500));
    expect(counting.accepted() - before).toBe(attempts);
    await servesNext();
  });

  it("an API that refuses the gateway's credential: its 401 reaches the client, once, without either secret", async () => {
    const since = lastSeq();
    const seenBefore = seen.length;
    const r = await run('curl', ['-sS', '-i', ...bearer(), `${urls['stale']}/ping`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^HTTP\/1\.1 401/);
    expect(r.stdout).toContain('{"error":"invalid api key"}');
    expect(r.stdout).not.toContain(STALE_KEY);
    await new Promise((x) => setTimeout(x, 300));
    // One request reached the API, with the gateway's (stale) credential, never the client's token.
    expect(seen.slice(seenBefore)).toEqual([{ url: '/ping', authorization: `Bearer ${STALE_KEY}` }]);
    const [result] = await resultsAfter(since, 1, 'stale');
    expect(result).toMatchObject({ summary: '401' });
    const logged = JSON.stringify(running.log.reader().eventsOfType('command').concat(events('result')));
    expect(logged).not.toContain(STALE_KEY);
    expect(logged).not.toContain(agent);
    await servesNext();
  });
});
