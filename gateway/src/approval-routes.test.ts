import {
  type ApprovalOutcome,
  AuthError,
  type EventInput,
  type Identity,
  LogWriteError,
  type SessionLogWriter,
  type StoredEvent,
  silentLogger,
} from '@gatehouse/core';
import { ApprovalService } from '@gatehouse/policy';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AdminApi } from './admin-api.js';
import { approvalRoutes, parseDecision } from './approval-routes.js';
import { GatewayMetrics } from './metrics.js';

class MemoryLog implements SessionLogWriter {
  readonly strict = true;
  readonly events: StoredEvent[] = [];
  failing = false;
  async append(event: EventInput): Promise<StoredEvent> {
    if (this.failing) throw new LogWriteError('session log unavailable: disk full');
    const stored = {
      seq: this.events.length + 1,
      ts: 0,
      prevHash: '',
      hash: '',
      ...event,
      data: { ...event.data },
    };
    this.events.push(stored);
    return stored;
  }
  health() {
    return { ok: true };
  }
  async close() {}
}

/** What the tests read from answers: one of these keys is present. */
interface ApiBody {
  error: { code: string; message: string };
  approvals: Record<string, unknown>[];
  approval: { [key: string]: unknown; grant: { id: string } };
}

const identities: Record<string, Identity> = {
  'tok-alice': { subject: 'alice', groups: ['dba'], issuer: 'test' },
  'tok-root': { subject: 'root', groups: ['admins'], issuer: 'test' },
  'tok-agent': { subject: 'agent-1', groups: ['agents', 'dba'], issuer: 'test' },
  'tok-mallory': { subject: 'mallory', groups: ['others'], issuer: 'test' },
};

const verifier = {
  async verify(token: string): Promise<Identity> {
    const identity = identities[token];
    if (identity === undefined) throw new AuthError('token signature invalid');
    return identity;
  },
};

describe('approval admin routes', () => {
  let api: AdminApi;
  let log: MemoryLog;
  let service: ApprovalService;
  let base: string;

  beforeEach(async () => {
    log = new MemoryLog();
    service = new ApprovalService({ log, logger: silentLogger, approverGroups: ['dba'], timeoutMs: 60_000 });
    api = await AdminApi.start({
      host: '127.0.0.1',
      port: 0,
      verifier,
      adminGroups: ['admins'],
      reader: { listSessions: () => [], getSession: () => undefined, events: () => [] },
      metrics: new GatewayMetrics(),
      logger: silentLogger,
      health: () => ({ log: { ok: true }, sessionsOpen: 0, draining: false }),
      routes: approvalRoutes(service, ['dba']),
    });
    base = `http://127.0.0.1:${api.address().port}`;
  });

  afterEach(async () => {
    await service.close();
    await api.close();
  });

  async function call(method: string, path: string, token?: string, body?: unknown) {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as ApiBody };
  }

  /** A request held for agent-1, as the gateway's session would make it. */
  async function hold(
    text = 'DELETE FROM orders',
  ): Promise<{ id: string; outcome: Promise<ApprovalOutcome> }> {
    const outcome = service.request({
      sessionId: 'sess-1',
      connection: 'orders-db',
      identity: identities['tok-agent']!,
      command: { protocol: 'postgres', kind: 'query', text },
      decision: { action: 'review', ruleId: 'risky#0' },
    });
    outcome.catch(() => undefined);
    const id = await vi.waitFor(() => {
      const found = service.list({ state: 'pending' }).find((r) => r.command.text === text);
      if (found === undefined) throw new Error('not yet');
      return found.id;
    });
    return { id, outcome };
  }

  it('requires a token, and an admin or approver group', async () => {
    expect((await call('GET', '/api/approvals')).status).toBe(401);
    expect((await call('GET', '/api/approvals', 'tok-forged')).status).toBe(401);
    const outsider = await call('GET', '/api/approvals', 'tok-mallory');
    expect(outsider.status).toBe(403);
    expect(outsider.body['error']).toMatchObject({ code: 'forbidden' });
  });

  it('lists and shows requests to approvers and admins', async () => {
    const { id } = await hold();
    for (const token of ['tok-alice', 'tok-root']) {
      const list = await call('GET', '/api/approvals?state=pending', token);
      expect(list.status).toBe(200);
      expect(list.body['approvals']).toEqual([
        expect.objectContaining({ id, subject: 'agent-1', state: 'pending', rule: 'risky#0' }),
      ]);
    }
    expect((await call('GET', '/api/approvals?state=approved', 'tok-alice')).body['approvals']).toEqual([]);
    const bad = await call('GET', '/api/approvals?state=weird', 'tok-alice');
    expect(bad.status).toBe(400);
    expect(bad.body['error']['code']).toBe('bad_request');

    const one = await call('GET', `/api/approvals/${id}`, 'tok-root');
    expect(one.status).toBe(200);
    expect(one.body['approval']).toMatchObject({ id, command: { text: 'DELETE FROM orders' } });
    const missing = await call('GET', '/api/approvals/apr_missing', 'tok-root');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({
      error: { code: 'not_found', message: 'no approval request apr_missing' },
    });
  });

  it('approves: the held command proceeds, and a second decision conflicts', async () => {
    const { id, outcome } = await hold();
    const ok = await call('POST', `/api/approvals/${id}/approve`, 'tok-alice', { reason: 'OPS-12' });
    expect(ok.status).toBe(200);
    expect(ok.body['approval']).toMatchObject({ id, state: 'approved', approver: 'alice', reason: 'OPS-12' });
    expect(await outcome).toEqual({ status: 'approved', id, approver: 'alice', reason: 'OPS-12' });

    const again = await call('POST', `/api/approvals/${id}/deny`, 'tok-alice');
    expect(again.status).toBe(409);
    expect(again.body['error']).toMatchObject({ code: 'conflict' });
    expect(again.body['error']['message']).toContain('already approved by alice');
  });

  it('denies with a reason', async () => {
    const { id, outcome } = await hold();
    const res = await call('POST', `/api/approvals/${id}/deny`, 'tok-alice', { reason: 'not today' });
    expect(res.status).toBe(200);
    expect(await outcome).toEqual({ status: 'denied', id, approver: 'alice', reason: 'not today' });
  });

  it('lets admins read but only approvers decide, never their own requests', async () => {
    const { id } = await hold();
    const admin = await call('POST', `/api/approvals/${id}/approve`, 'tok-root');
    expect(admin.status).toBe(403);
    expect(admin.body['error']['code']).toBe('forbidden');
    const own = await call('POST', `/api/approvals/${id}/approve`, 'tok-agent');
    expect(own.status).toBe(403);
    expect(own.body['error']).toMatchObject({ code: 'self_approval' });
    expect(own.body['error']['message']).toContain('you cannot approve your own request');
    expect((await call('POST', '/api/approvals/apr_missing/approve', 'tok-alice')).status).toBe(404);
    expect(service.get(id)?.state).toBe('pending');
  });

  it('grants a window', async () => {
    const { id } = await hold();
    const res = await call('POST', `/api/approvals/${id}/approve`, 'tok-alice', { scope: { window: '30m' } });
    expect(res.status).toBe(200);
    expect(res.body['approval']['scope']).toEqual({ kind: 'window', durationMs: 1_800_000 });
    expect(res.body['approval']['grant']['id']).toMatch(/^grt_/);
  });

  it('refuses malformed bodies with 400 and leaves the request pending', async () => {
    const { id } = await hold();
    const path = `/api/approvals/${id}/approve`;
    for (const body of [
      '{not json',
      '[]',
      { scope: { window: 'forever' } },
      { scope: { window: '0s' } },
      { scope: 'always' },
      { reason: 42 },
      { window: '30m' },
      { scope: { window: '48h' } },
    ]) {
      const res = await call('POST', path, 'tok-alice', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body['error']['code']).toBe('bad_request');
    }
    expect((await call('POST', `/api/approvals/${id}/deny`, 'tok-alice', { scope: 'once' })).status).toBe(
      400,
    );
    expect(service.get(id)?.state).toBe('pending');
  });

  it('answers 503 when the decision cannot be recorded', async () => {
    const { id } = await hold();
    log.failing = true;
    const res = await call('POST', `/api/approvals/${id}/approve`, 'tok-alice');
    expect(res.status).toBe(503);
    expect(res.body['error']['code']).toBe('log_unavailable');
    expect(service.get(id)?.state).toBe('pending');
  });
});

describe('parseDecision', () => {
  it('accepts the documented shapes', () => {
    expect(parseDecision({}, true)).toEqual({});
    expect(parseDecision({ reason: '  ok  ', scope: 'once' }, true)).toEqual({ reason: 'ok' });
    expect(parseDecision({ scope: { window: '1h30m' } }, true)).toEqual({
      scope: { kind: 'window', durationMs: 5_400_000 },
    });
    expect(parseDecision({ scope: { window: '1h', extra: 1 } }, true)).toMatch(/scope must be/);
  });
});
