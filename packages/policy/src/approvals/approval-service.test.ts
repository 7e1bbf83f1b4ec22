import {
  type ApprovalRequestInput,
  type Clock,
  ErrorCode,
  type EventInput,
  type Identity,
  isGatewayError,
  LogWriteError,
  type SessionLogWriter,
  type StoredEvent,
  silentLogger,
} from '@gatehouse/core';
import { describe, expect, it, vi } from 'vitest';
import { ApprovalError } from './approval-error.js';
import { ApprovalService, type ApprovalServiceOptions } from './approval-service.js';

/** Just enough of the session log: keeps events in order, and can be made to fail. */
class MemoryLog implements SessionLogWriter {
  readonly strict = true;
  readonly events: StoredEvent[] = [];
  failing = false;
  async append(event: EventInput): Promise<StoredEvent> {
    if (this.failing) throw new LogWriteError('session log unavailable: disk full');
    const stored: StoredEvent = {
      seq: this.events.length + 1,
      ts: Date.now(),
      sessionId: event.sessionId,
      type: event.type,
      data: JSON.parse(JSON.stringify(event.data)) as Record<string, unknown>,
      prevHash: '',
      hash: '',
    };
    this.events.push(stored);
    return stored;
  }
  health() {
    return { ok: !this.failing };
  }
  async close() {}
  approvals(): Record<string, unknown>[] {
    return this.events.filter((e) => e.type === 'approval').map((e) => ({ session: e.sessionId, ...e.data }));
  }
}

class FakeClock implements Clock {
  ms = Date.parse('2030-01-01T12:00:00Z');
  now() {
    return new Date(this.ms);
  }
  advance(ms: number) {
    this.ms += ms;
  }
}

const agent: Identity = { subject: 'agent-1', groups: ['agents'], issuer: 'test' };
const otherAgent: Identity = { subject: 'agent-2', groups: ['agents'], issuer: 'test' };
const alice: Identity = { subject: 'alice', groups: ['dba'], issuer: 'test' };
const bob: Identity = { subject: 'bob', groups: ['dba', 'oncall'], issuer: 'test' };
const mallory: Identity = { subject: 'mallory', groups: ['agents'], issuer: 'test' };
/** An approver who also runs commands: still may not approve their own. */
const dbaBot: Identity = { subject: 'dba-bot', groups: ['dba'], issuer: 'test' };

function input(over: Partial<ApprovalRequestInput> & { text?: string } = {}): ApprovalRequestInput {
  return {
    sessionId: over.sessionId ?? 'sess-1',
    connection: over.connection ?? 'orders-db',
    identity: over.identity ?? agent,
    command: over.command ?? { protocol: 'postgres', kind: 'query', text: over.text ?? 'DELETE FROM orders' },
    decision: over.decision ?? {
      action: 'review',
      ruleId: 'risky#0',
      message: 'deletes need a second pair of eyes',
    },
  };
}

function setup(over: Partial<ApprovalServiceOptions> = {}) {
  const log = new MemoryLog();
  const clock = new FakeClock();
  const service = new ApprovalService({
    log,
    clock,
    logger: silentLogger,
    approverGroups: ['dba'],
    timeoutMs: 60_000,
    ...over,
  });
  /** Starts a request and waits until approvers can see it. */
  async function hold(req: ApprovalRequestInput = input(), signal?: AbortSignal) {
    const before = new Set(service.list().map((r) => r.id));
    const outcome = service.request(req, signal);
    outcome.catch(() => undefined);
    const request = await vi.waitFor(() => {
      const created = service.list().find((r) => !before.has(r.id));
      if (created === undefined) throw new Error('not yet pending');
      return created;
    });
    return { outcome, id: request.id, request };
  }
  return { log, clock, service, hold };
}

describe('ApprovalService', () => {
  it('holds a command until an approver approves it, logging who and why', async () => {
    const { service, log, hold } = setup();
    const { outcome, id, request } = await hold();
    expect(id).toMatch(/^apr_[a-z2-7]{10}$/);
    expect(request).toMatchObject({
      sessionId: 'sess-1',
      connection: 'orders-db',
      subject: 'agent-1',
      groups: ['agents'],
      command: { protocol: 'postgres', kind: 'query', text: 'DELETE FROM orders' },
      rule: 'risky#0',
      message: 'deletes need a second pair of eyes',
      createdAt: '2030-01-01T12:00:00.000Z',
      expiresAt: '2030-01-01T12:01:00.000Z',
      state: 'pending',
    });
    expect(log.approvals()).toEqual([{ session: 'sess-1', state: 'requested', id, request }]);

    const decided = await service.approve(id, alice, { reason: 'ticket OPS-12' });
    expect(await outcome).toEqual({ status: 'approved', id, approver: 'alice', reason: 'ticket OPS-12' });
    expect(decided).toMatchObject({ state: 'approved', approver: 'alice', reason: 'ticket OPS-12' });
    expect(service.get(id)?.state).toBe('approved');
    expect(log.approvals()[1]).toEqual({
      session: 'sess-1',
      state: 'approved',
      id,
      approver: 'alice',
      reason: 'ticket OPS-12',
      scope: { kind: 'once' },
    });
  });

  it('denies with the approver and reason', async () => {
    const { service, log, hold } = setup();
    const { outcome, id } = await hold();
    await service.deny(id, bob, { reason: 'not during the freeze' });
    expect(await outcome).toEqual({ status: 'denied', id, approver: 'bob', reason: 'not during the freeze' });
    expect(log.approvals().at(-1)).toMatchObject({
      state: 'denied',
      id,
      approver: 'bob',
      reason: 'not during the freeze',
    });
  });

  it('expires an unanswered request at the timeout', async () => {
    const { service, log, hold } = setup({ timeoutMs: 40 });
    const { outcome, id } = await hold();
    expect(await outcome).toEqual({ status: 'expired', id });
    expect(service.get(id)?.state).toBe('expired');
    expect(log.approvals().at(-1)).toMatchObject({ state: 'expired', id, reason: 'no decision within 40ms' });
    await expect(service.approve(id, alice)).rejects.toMatchObject({ kind: 'conflict' });
  });

  it('refuses self-approval, non-approvers, unknown ids and second decisions with typed errors', async () => {
    const { service, hold } = setup();
    const own = await hold(input({ identity: dbaBot }));
    await expect(service.approve(own.id, dbaBot)).rejects.toMatchObject({
      kind: 'self_approval',
      message: expect.stringContaining('you cannot approve your own request'),
    });
    await expect(service.deny(own.id, dbaBot)).rejects.toMatchObject({ kind: 'self_approval' });
    await expect(service.approve(own.id, mallory)).rejects.toBeInstanceOf(ApprovalError);
    await expect(service.approve(own.id, mallory)).rejects.toMatchObject({ kind: 'forbidden' });
    await expect(service.approve('apr_nosuchthing', alice)).rejects.toMatchObject({ kind: 'not_found' });
    expect(service.get(own.id)?.state).toBe('pending');

    await service.approve(own.id, alice);
    const second = service.deny(own.id, bob);
    await expect(second).rejects.toMatchObject({
      kind: 'conflict',
      message: expect.stringContaining('already approved by alice'),
    });
    const err = await second.catch((e: unknown) => e);
    expect(isGatewayError(err, ErrorCode.AccessDenied)).toBe(true);
    expect((err as ApprovalError).details['kind']).toBe('conflict');
  });

  it('lets only one of two racing approvers decide', async () => {
    const { service, hold } = setup();
    const { outcome, id } = await hold();
    const results = await Promise.allSettled([service.approve(id, alice), service.deny(id, bob)]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((await outcome).status).toBe('approved');
  });

  it('a window approval grants the same text for the same identity and connection until it ends', async () => {
    const { service, log, clock, hold } = setup();
    const first = await hold();
    const decided = await service.approve(first.id, alice, {
      reason: 'cleanup',
      scope: { kind: 'window', durationMs: 30 * 60_000 },
    });
    expect(decided.grant?.until).toBe('2030-01-01T12:30:00.000Z');
    await first.outcome;

    clock.advance(10 * 60_000);
    const again = await service.request(input({ sessionId: 'sess-2' }));
    expect(again).toEqual({ status: 'approved', id: first.id, approver: 'alice', reason: 'cleanup' });
    expect(service.list({ state: 'pending' })).toEqual([]);
    expect(log.approvals().at(-1)).toMatchObject({
      session: 'sess-2',
      state: 'used',
      id: first.id,
      grant: decided.grant?.id,
      approver: 'alice',
      command: { text: 'DELETE FROM orders' },
    });

    // Not a different text, identity or connection.
    const other = await hold(input({ text: 'DELETE FROM customers' }));
    const stranger = await hold(input({ identity: otherAgent }));
    const elsewhere = await hold(input({ connection: 'billing-db' }));
    expect(
      service
        .list({ state: 'pending' })
        .map((r) => r.id)
        .sort(),
    ).toEqual([other.id, stranger.id, elsewhere.id].sort());

    // And not after the window.
    clock.advance(21 * 60_000);
    const late = await hold();
    expect(late.request.state).toBe('pending');
    await service.expireAll('test over');
  });

  it('refuses a window that is not positive or longer than the maximum', async () => {
    const { service, hold } = setup({ maxWindowMs: 3_600_000 });
    const { id } = await hold();
    for (const durationMs of [0, -5, 1.5, 2 * 3_600_000]) {
      await expect(
        service.approve(id, alice, { scope: { kind: 'window', durationMs } }),
      ).rejects.toMatchObject({
        kind: 'invalid',
      });
    }
    expect(service.get(id)?.state).toBe('pending');
    await service.expireAll('test over');
  });

  it('cancels the request when the client goes away', async () => {
    const { service, log, hold } = setup();
    const controller = new AbortController();
    const { outcome, id } = await hold(input(), controller.signal);
    controller.abort();
    await expect(outcome).rejects.toMatchObject({ kind: 'cancelled' });
    expect(service.get(id)?.state).toBe('cancelled');
    expect(log.approvals().at(-1)).toMatchObject({ state: 'cancelled', id, reason: 'the client went away' });
    await expect(service.approve(id, alice)).rejects.toMatchObject({ kind: 'conflict' });
  });

  it('creates nothing for a client that is already gone', async () => {
    const { service, log } = setup();
    await expect(service.request(input(), AbortSignal.abort())).rejects.toMatchObject({ kind: 'cancelled' });
    expect(service.list()).toEqual([]);
    expect(log.events).toEqual([]);
  });

  it('expireAll expires every pending request and resolves their waiters', async () => {
    const { service, log, hold } = setup();
    const a = await hold(input({ sessionId: 's-a' }));
    const b = await hold(input({ sessionId: 's-b', text: 'DROP TABLE x' }));
    const decided = await hold(input({ sessionId: 's-c', text: 'TRUNCATE y' }));
    await service.deny(decided.id, alice);
    expect((await service.expireAll('gateway shutting down')).sort()).toEqual([a.id, b.id].sort());
    expect(await a.outcome).toEqual({ status: 'expired', id: a.id });
    expect(await b.outcome).toEqual({ status: 'expired', id: b.id });
    expect(log.approvals().filter((e) => e['state'] === 'expired')).toEqual([
      expect.objectContaining({ session: 's-a', id: a.id, reason: 'gateway shutting down' }),
      expect.objectContaining({ session: 's-b', id: b.id, reason: 'gateway shutting down' }),
    ]);
  });

  it('close refuses new requests', async () => {
    const { service, hold } = setup();
    const held = await hold();
    await service.close();
    expect((await held.outcome).status).toBe('expired');
    await expect(service.request(input())).rejects.toMatchObject({ code: ErrorCode.ShuttingDown });
  });

  it('recoverPending expires what a previous process left pending, in the requester session', async () => {
    const before = setup();
    const pending = await before.hold(input({ sessionId: 'old-1' }));
    const decided = await before.hold(input({ sessionId: 'old-2', text: 'DROP TABLE x' }));
    await before.service.approve(decided.id, alice);
    // The old process dies: its log is all that is left.
    const events = [
      ...before.log.events,
      { ...before.log.events[0]!, type: 'command' as const, data: { id: 'x' } },
    ];

    const after = setup();
    expect(await after.service.recoverPending(events.reverse())).toEqual([pending.id]);
    expect(after.log.approvals()).toEqual([
      {
        session: 'old-1',
        state: 'expired',
        id: pending.id,
        reason: 'the gateway restarted while the request was pending',
      },
    ]);
    // Recovering twice from a log that now shows the expiry does nothing more.
    const all = [...events, ...after.log.events];
    expect(await after.service.recoverPending(all)).toEqual([]);
    await before.service.expireAll('test over');
  });

  it('recoverPending rejects when the expiry cannot be recorded', async () => {
    const before = setup();
    await before.hold();
    const after = setup();
    after.log.failing = true;
    await expect(after.service.recoverPending(before.log.events)).rejects.toBeInstanceOf(LogWriteError);
    await before.service.expireAll('test over');
  });

  it('refuses to hold a request the log cannot record', async () => {
    const { service, log } = setup();
    log.failing = true;
    await expect(service.request(input())).rejects.toBeInstanceOf(LogWriteError);
    expect(service.list()).toEqual([]);
  });

  it('keeps the request pending when a decision cannot be recorded', async () => {
    const { service, log, hold } = setup();
    const { outcome, id } = await hold();
    log.failing = true;
    await expect(service.approve(id, alice)).rejects.toBeInstanceOf(LogWriteError);
    expect(service.get(id)?.state).toBe('pending');
    log.failing = false;
    await service.approve(id, alice);
    expect((await outcome).status).toBe('approved');
  });

  it('refuses a granted command whose use the log cannot record', async () => {
    const { service, log, hold } = setup();
    const { id } = await hold();
    await service.approve(id, alice, { scope: { kind: 'window', durationMs: 60_000 } });
    log.failing = true;
    await expect(service.request(input())).rejects.toBeInstanceOf(LogWriteError);
  });

  it('lists by state, oldest first', async () => {
    const { service, clock, hold } = setup();
    const a = await hold();
    clock.advance(1000);
    const b = await hold(input({ text: 'DROP TABLE x' }));
    await service.deny(a.id, alice);
    expect(service.list().map((r) => r.id)).toEqual([a.id, b.id]);
    expect(service.list({ state: 'pending' }).map((r) => r.id)).toEqual([b.id]);
    expect(service.list({ state: 'denied' }).map((r) => r.id)).toEqual([a.id]);
    await service.expireAll('test over');
  });
});
