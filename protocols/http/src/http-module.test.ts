import { connect } from 'node:net';
import { compilePolicy } from '@gatehouse/policy';
import { afterEach, describe, expect, it } from 'vitest';
import { type Bed, bearer, curl, curl1, startBed, stopBed, UPSTREAM_SECRET } from './test-support/harness.js';

let bed: Bed | undefined;
afterEach(async () => {
  await stopBed(bed);
  bed = undefined;
});

async function sessionEnd(b: Bed, n = 1) {
  return (await b.log.waitFor('session.end', n))[n - 1]?.data;
}

describe('http module: identity', () => {
  it('forwards an allowed request and logs session, auth, command, decision and result', async () => {
    bed = await startBed();
    const r = await curl1([...bearer('tok-agent'), `${bed.url}/items?limit=5`]);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ ok: true, path: '/base/items?limit=5' });
    await sessionEnd(bed);
    expect(bed.log.events.map((e) => e.type)).toEqual([
      'session.start',
      'auth',
      'command',
      'decision',
      'result',
      'session.end',
    ]);
    expect(bed.log.ofType('auth')[0]?.data).toMatchObject({
      method: 'bearer',
      outcome: 'success',
      subject: 'agent-1',
    });
    expect(bed.log.ofType('command')[0]?.data).toEqual({
      kind: 'request',
      text: 'GET /items?limit=5',
      attributes: {
        method: 'GET',
        path: '/items',
        headers: ['host', 'user-agent', 'accept', 'authorization'],
      },
    });
    expect(bed.log.ofType('decision')[0]?.data).toEqual({ action: 'allow' });
    const result = bed.log.ofType('result')[0]?.data;
    expect(result).toMatchObject({
      status: 'ok',
      summary: '200',
      bytes: Buffer.byteLength(r.body),
      data: { status: 200, requestBytes: 0 },
      command: bed.log.ofType('command')[0]?.seq,
    });
    expect(typeof result?.['durationMs']).toBe('number');
    const logged = JSON.stringify(bed.log.events);
    expect(logged).not.toContain('tok-agent');
    expect(logged).not.toContain('upstream-secret');
  });

  it('answers 401 with a Bearer challenge when the token is missing, and forwards nothing', async () => {
    bed = await startBed();
    const r = await curl1([`${bed.url}/items`]);
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toBe('Bearer');
    expect(JSON.parse(r.body)).toEqual({
      error: {
        code: 'unauthenticated',
        message: 'missing bearer token (send Authorization: Bearer <token>)',
      },
    });
    const basic = await curl1(['-u', 'user:pass', `${bed.url}/items`]);
    expect(basic.status).toBe(401);
    expect(bed.upstream.seen).toHaveLength(0);
  });

  it('answers 401 to a bad token, logs the failure without the token and closes the session', async () => {
    bed = await startBed();
    const r = await curl1([...bearer('forged.token.value'), `${bed.url}/items`]);
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    expect(r.headers['connection']).toBe('close');
    expect(JSON.parse(r.body).error).toEqual({ code: 'unauthenticated', message: 'token signature invalid' });
    expect(await sessionEnd(bed)).toMatchObject({ reason: 'auth-failed' });
    expect(bed.log.ofType('auth')[0]?.data).toMatchObject({
      outcome: 'failure',
      reason: 'token signature invalid',
    });
    expect(JSON.stringify(bed.log.events)).not.toContain('forged.token.value');
    expect(bed.upstream.seen).toHaveLength(0);
  });

  it('answers 403 when the identity may not use the connection', async () => {
    bed = await startBed();
    const r = await curl1([...bearer('tok-intruder'), `${bed.url}/items`]);
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body).error.code).toBe('access_denied');
    expect(await sessionEnd(bed)).toMatchObject({ reason: 'access-denied' });
  });

  it('refuses an expired token even when the verifier lets it through', async () => {
    bed = await startBed();
    const r = await curl1([...bearer('tok-expired'), `${bed.url}/items`]);
    expect(r.status).toBe(401);
    expect(JSON.parse(r.body).error.message).toBe('token expired');
    expect(bed.upstream.seen).toHaveLength(0);
  });

  it('on one keep-alive connection: verifies a repeated token once, accepts a fresh token of the same subject, refuses another subject', async () => {
    bed = await startBed();
    const r = await curl([
      '-v',
      ...bearer('tok-agent'),
      `${bed.url}/one`,
      '--next',
      '-v',
      ...bearer('tok-agent'),
      `${bed.url}/two`,
      '--next',
      '-v',
      ...bearer('tok-agent-b'),
      `${bed.url}/three`,
      '--next',
      '-v',
      ...bearer('tok-other'),
      `${bed.url}/four`,
    ]);
    expect(r.responses.map((x) => x.status)).toEqual([200, 200, 200, 401]);
    expect(r.stderr).toMatch(/Re-using existing connection/);
    expect(JSON.parse(r.responses[3]?.body ?? '').error.message).toBe(
      'the token is for "agent-2" but this connection authenticated as "agent-1"',
    );
    expect(r.responses[3]?.headers['connection']).toBe('close');
    await sessionEnd(bed);
    expect(new Set(bed.log.events.map((e) => e.sessionId)).size).toBe(1);
    // tok-agent once; tok-agent-b checked for its subject, then authenticated; tok-other checked.
    expect(bed.log.ofType('auth').map((e) => e.data['outcome'])).toEqual(['success', 'success']);
    expect(bed.log.ofType('note')[0]?.data).toMatchObject({ auth: 'rejected' });
    expect(bed.upstream.seen.map((s) => s.url)).toEqual(['/base/one', '/base/two', '/base/three']);
  });
});

describe('http module: policy', () => {
  it('denies with 403 and the rule message; nothing reaches the upstream; the connection stays usable', async () => {
    bed = await startBed();
    const r = await curl([
      ...bearer('tok-agent'),
      `${bed.url}/admin/users`,
      '--next',
      ...bearer('tok-agent'),
      `${bed.url}/ok`,
    ]);
    expect(r.responses[0]?.status).toBe(403);
    expect(JSON.parse(r.responses[0]?.body ?? '')).toEqual({
      error: { code: 'policy_denied', message: 'the admin API is off limits (rule no-admin)' },
    });
    expect(r.responses[1]?.status).toBe(200);
    expect(bed.upstream.seen.map((s) => s.url)).toEqual(['/base/ok']);
    expect(bed.log.ofType('decision').map((e) => e.data['action'])).toEqual(['deny', 'allow']);
  });

  it('works with the real policy engine: methods, path globs and header presence', async () => {
    const engine = compilePolicy({
      connections: [
        {
          name: 'api',
          policy: {
            rules: [
              { id: 'impersonation', action: 'deny', http: { headers: ['x-impersonate-user'] } },
              { id: 'reads', action: 'allow', http: { methods: ['GET'], paths: ['/api/**'] } },
            ],
            defaultAction: 'deny',
          },
        },
      ],
    });
    bed = await startBed({ policy: engine });
    const ok = await curl1([...bearer('tok-agent'), `${bed.url}/api/v1/items`]);
    expect(ok.status).toBe(200);
    const post = await curl1(['-X', 'POST', ...bearer('tok-agent'), `${bed.url}/api/v1/items`]);
    expect(post.status).toBe(403);
    const imp = await curl1([
      ...bearer('tok-agent'),
      '-H',
      'X-Impersonate-User: root',
      `${bed.url}/api/v1/items`,
    ]);
    expect(imp.status).toBe(403);
    expect(JSON.parse(imp.body).error.message).toMatch(/rule impersonation/);
    expect(bed.upstream.seen.map((s) => `${s.method} ${s.url}`)).toEqual(['GET /base/api/v1/items']);
  });

  it('holds a reviewed request until it is approved, then forwards it', async () => {
    bed = await startBed();
    const pending = curl1(['-X', 'DELETE', ...bearer('tok-agent'), `${bed.url}/items/7`]);
    const approval = await bed.approvals.next();
    expect(approval.input.command.text).toBe('DELETE /items/7');
    expect(approval.input.identity.subject).toBe('agent-1');
    await new Promise((r) => setTimeout(r, 100));
    expect(bed.upstream.seen).toHaveLength(0);
    approval.answer({ status: 'approved', id: 'apr-1', approver: 'alice' });
    const r = await pending;
    expect(r.status).toBe(200);
    expect(bed.upstream.seen.map((s) => `${s.method} ${s.url}`)).toEqual(['DELETE /base/items/7']);
  });

  it('answers 403 with the approver and reason when a review is denied, and when it expires', async () => {
    bed = await startBed();
    const denied = curl1(['-X', 'DELETE', ...bearer('tok-agent'), `${bed.url}/items/7`]);
    (await bed.approvals.next()).answer({
      status: 'denied',
      id: 'apr-2',
      approver: 'bob',
      reason: 'not today',
    });
    const d = await denied;
    expect(d.status).toBe(403);
    expect(JSON.parse(d.body).error).toEqual({
      code: 'approval_denied',
      message: 'request apr-2 was denied by bob: not today',
    });
    const expired = curl1(['-X', 'DELETE', ...bearer('tok-agent'), `${bed.url}/items/8`]);
    (await bed.approvals.next()).answer({ status: 'expired', id: 'apr-3' });
    const e = await expired;
    expect(e.status).toBe(403);
    expect(JSON.parse(e.body).error.code).toBe('approval_timeout');
    expect(bed.upstream.seen).toHaveLength(0);
  });

  it('answers 503 naming the cause when the strict log cannot record the request, and forwards nothing', async () => {
    bed = await startBed();
    const b = bed;
    b.upstream.routes.set('/base/first', (_req, res) => {
      b.log.failing = true;
      res.end('first');
    });
    const r = await curl([
      ...bearer('tok-agent'),
      `${b.url}/first`,
      '--next',
      ...bearer('tok-agent'),
      `${b.url}/second`,
    ]);
    expect(r.responses[1]?.status).toBe(503);
    expect(JSON.parse(r.responses[1]?.body ?? '').error).toEqual({
      code: 'log_unavailable',
      message:
        'the session log cannot record this request, so it was not forwarded: session log unavailable: disk full',
    });
    expect(b.upstream.seen.map((s) => s.url)).toEqual(['/base/first']);
  });
});

describe('http module: connection handling', () => {
  it('refuses connections over the per-source limit with 429 JSON', async () => {
    bed = await startBed({ maxConnectionsPerSource: 1 });
    const holder = connect(bed.port, '127.0.0.1');
    await new Promise((r) => holder.once('connect', r));
    await new Promise((r) => setTimeout(r, 50));
    const r = await curl1([...bearer('tok-agent'), `${bed.url}/items`]);
    expect(r.status).toBe(429);
    expect(r.headers['connection']).toBe('close');
    expect(JSON.parse(r.body).error).toEqual({
      code: 'access_denied',
      message: 'too many connections from 127.0.0.1',
    });
    holder.destroy();
  });

  it('drops a silent client at the handshake deadline', async () => {
    bed = await startBed({}, { handshakeTimeoutMs: 300 });
    const socket = connect(bed.port, '127.0.0.1');
    let received = '';
    socket.on('data', (c: Buffer) => {
      received += c.toString();
    });
    await new Promise((r) => socket.once('close', r));
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
    expect(await sessionEnd(bed)).toMatchObject({ reason: 'handshake-timeout' });
  });

  it('refuses TRACE and protocol upgrades', async () => {
    bed = await startBed();
    const trace = await curl1(['-X', 'TRACE', ...bearer('tok-agent'), `${bed.url}/x`]);
    expect(trace.status).toBe(405);
    const ws = await curl1([
      ...bearer('tok-agent'),
      '-H',
      'Connection: Upgrade',
      '-H',
      'Upgrade: websocket',
      `${bed.url}/ws`,
    ]);
    expect(ws.status).toBe(501);
    expect(JSON.parse(ws.body).error.code).toBe('upgrade_not_supported');
    expect(bed.upstream.seen).toHaveLength(0);
  });

  it('answers a request held for review with 503 when the gateway shuts down', async () => {
    bed = await startBed();
    const pending = curl1(['-X', 'DELETE', ...bearer('tok-agent'), `${bed.url}/items/9`]);
    await bed.approvals.next();
    const stopping = bed.gateway.shutdown();
    const r = await pending;
    expect(r.status).toBe(503);
    expect(JSON.parse(r.body).error.code).toBe('shutting_down');
    await stopping;
    expect(await sessionEnd(bed)).toMatchObject({ reason: 'gateway-shutdown' });
    expect(bed.upstream.seen).toHaveLength(0);
  });

  it('never lets the caller token reach the upstream, and sends the configured credentials', async () => {
    bed = await startBed();
    await curl1([
      ...bearer('tok-agent'),
      '-H',
      'Proxy-Authorization: Basic eDp5',
      '-H',
      'X-Upstream-Key: guess',
      `${bed.url}/who`,
    ]);
    const seen = bed.upstream.seen[0];
    expect(seen?.headers['authorization']).toBe(UPSTREAM_SECRET);
    expect(seen?.headers['x-upstream-key']).toBe('gateway-held-key');
    expect(seen?.headers['proxy-authorization']).toBeUndefined();
    expect(JSON.stringify(seen?.headers)).not.toContain('tok-agent');
    expect(seen?.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen?.headers['x-forwarded-proto']).toBe('http');
    expect(seen?.headers['host']).toBe(`127.0.0.1:${bed.upstream.port}`);
    expect(seen?.headers['accept-encoding']).toBe('identity');
  });
});
