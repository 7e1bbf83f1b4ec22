import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthError, EventType, type Identity, silentLogger } from '@gatehouse/core';
import { openSessionLog, parseAsciicast, type SessionLog } from '@gatehouse/session-log';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AdminApi } from './admin-api.js';
import { GatewayMetrics } from './metrics.js';
import { recordingRoutes } from './recording-routes.js';

const identities: Record<string, Identity> = {
  'tok-root': { subject: 'root', groups: ['admins'], issuer: 'test' },
  'tok-agent': { subject: 'agent-1', groups: ['agents'], issuer: 'test' },
};

const verifier = {
  async verify(token: string): Promise<Identity> {
    const identity = identities[token];
    if (identity === undefined) throw new AuthError('token signature invalid');
    return identity;
  },
};

let dir: string;
let log: SessionLog;
let api: AdminApi;
let base: string;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-recording-'));
  log = openSessionLog({ path: join(dir, 'log.db') });
  const reader = log.reader();
  api = await AdminApi.start({
    host: '127.0.0.1',
    port: 0,
    verifier,
    adminGroups: ['admins'],
    reader: {
      listSessions: (f) => reader.listSessions(f),
      getSession: (id) => reader.getSession(id),
      events: (id, q) => reader.events(id, q),
    },
    metrics: new GatewayMetrics(),
    logger: silentLogger,
    health: () => ({ log: { ok: true }, sessionsOpen: 0, draining: false }),
    routes: recordingRoutes(reader),
  });
  const { port } = api.address();
  base = `http://127.0.0.1:${port}`;
});

afterEach(async () => {
  await api.close();
  await log.close();
  rmSync(dir, { recursive: true, force: true });
});

async function session(id: string, output: [string, number, string][]): Promise<void> {
  await log.append({
    sessionId: id,
    type: EventType.SessionStart,
    data: { connection: 'web-ssh', protocol: 'ssh', clientAddress: '127.0.0.1:1' },
  });
  for (const [stream, t, data] of output) {
    await log.append({ sessionId: id, type: EventType.Output, data: { stream, t, data } });
  }
}

function get(path: string, token = 'tok-root'): Promise<Response> {
  return fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
}

describe('GET /api/sessions/:id/recording', () => {
  it('answers the terminal recording as asciicast v2', async () => {
    await session('sess-a', [
      ['resize', 0, '100x30'],
      ['stdout', 10, '$ '],
      ['stdin', 200, 'id\r'],
      ['stdout', 210, 'id\r\nuid=0(root)\r\n'],
    ]);
    const res = await get('/api/sessions/sess-a/recording');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-asciicast');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="sess-a.cast"');
    const cast = parseAsciicast(await res.text());
    expect(cast.header).toMatchObject({ version: 2, width: 100, height: 30 });
    expect(cast.events).toEqual([
      [0.01, 'o', '$ '],
      [0.21, 'o', 'id\r\nuid=0(root)\r\n'],
    ]);

    const withInput = parseAsciicast(await (await get('/api/sessions/sess-a/recording?input=true')).text());
    expect(withInput.events.map((e) => e[1])).toEqual(['o', 'i', 'o']);
  });

  it('answers 404 for an unknown session and for one without a recording', async () => {
    await session('sess-quiet', []);
    for (const path of ['/api/sessions/nope/recording', '/api/sessions/sess-quiet/recording']) {
      const res = await get(path);
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
    }
  });

  it('refuses a bad input flag, callers outside the admin groups and other methods', async () => {
    await session('sess-b', [['stdout', 0, 'x']]);
    expect((await get('/api/sessions/sess-b/recording?input=yes')).status).toBe(400);
    expect((await get('/api/sessions/sess-b/recording', 'tok-agent')).status).toBe(403);
    expect((await get('/api/sessions/sess-b/recording', 'tok-bad')).status).toBe(401);
    const post = await fetch(`${base}/api/sessions/sess-b/recording`, {
      method: 'POST',
      headers: { authorization: 'Bearer tok-root' },
    });
    expect(post.status).toBe(405);
  });
});
