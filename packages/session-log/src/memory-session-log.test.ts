import { EventType, LogWriteError } from '@gatehouse/core';
import { describe, expect, it } from 'vitest';
import { eventHash, GENESIS_HASH } from './chain.js';
import { FailingSessionLog } from './failing-session-log.js';
import { MemorySessionLog } from './memory-session-log.js';

describe('MemorySessionLog', () => {
  it('chains, redacts and stores canonical data like the real log', async () => {
    const log = new MemorySessionLog({ clock: { now: () => new Date(42) } });
    const [a, b] = await Promise.all([
      log.append({ sessionId: 's', type: EventType.SessionStart, data: { connection: 'db' } }),
      log.append({
        sessionId: 's',
        type: EventType.Command,
        data: { text: 'pw=hunter2' },
        secrets: ['hunter2'],
      }),
    ]);
    expect(a).toMatchObject({ seq: 1, ts: 42, prevHash: GENESIS_HASH });
    expect(a?.hash).toBe(eventHash(1, 42, 's', 'session.start', '{"connection":"db"}', GENESIS_HASH));
    expect(b).toMatchObject({ seq: 2, prevHash: a?.hash, data: { text: 'pw=[REDACTED]' } });
    expect(log.events).toHaveLength(2);
    expect(log.eventsOf('s', EventType.Command)).toEqual([b]);
    expect(log.strict).toBe(true);
  });

  it('commits asynchronously', async () => {
    const log = new MemorySessionLog();
    const pending = log.append({ sessionId: 's', type: EventType.Note, data: {} });
    expect(log.events).toHaveLength(0);
    await pending;
    expect(log.events).toHaveLength(1);
  });

  it('simulates an outage and its end', async () => {
    const log = new MemorySessionLog({ strict: false });
    log.setUnavailable('disk full');
    await expect(log.append({ sessionId: 's', type: EventType.Note, data: {} })).rejects.toThrow(
      'session log unavailable: disk full (memory)',
    );
    expect(log.health()).toMatchObject({ ok: false, error: 'session log unavailable: disk full (memory)' });
    log.setUnavailable(undefined);
    await expect(log.append({ sessionId: 's', type: EventType.Note, data: {} })).resolves.toMatchObject({
      seq: 1,
    });
    expect(log.health().ok).toBe(true);
  });

  it('recovers open sessions and refuses appends once closed', async () => {
    const log = new MemorySessionLog();
    await log.append({ sessionId: 'a', type: EventType.SessionStart, data: {} });
    await log.append({ sessionId: 'b', type: EventType.SessionStart, data: {} });
    await log.append({ sessionId: 'b', type: EventType.SessionEnd, data: { reason: 'client-closed' } });
    expect(await log.recoverOpenSessions()).toBe(1);
    expect(log.eventsOf('a', EventType.SessionEnd)[0]?.data).toEqual({ reason: 'gateway-restart' });
    await log.close();
    await expect(log.append({ sessionId: 'a', type: EventType.Note, data: {} })).rejects.toBeInstanceOf(
      LogWriteError,
    );
  });

  it('rejects invalid events like the real log', async () => {
    const log = new MemorySessionLog();
    await expect(log.append({ sessionId: 's', type: 'x' as EventType, data: {} })).rejects.toThrow(
      /unknown event type/,
    );
  });
});

describe('FailingSessionLog', () => {
  it('rejects every append with a LogWriteError and reports itself unhealthy', async () => {
    const log = new FailingSessionLog({ reason: 'disk full' });
    await expect(log.append({ sessionId: 's', type: EventType.Note, data: {} })).rejects.toMatchObject({
      name: 'LogWriteError',
      code: 'log_unavailable',
      message: 'session log unavailable: disk full (test double)',
    });
    await expect(log.append({ sessionId: 's', type: EventType.Note, data: {} })).rejects.toBeInstanceOf(
      LogWriteError,
    );
    expect(log.attempts).toBe(2);
    expect(log.health().ok).toBe(false);
    expect(log.strict).toBe(true);
    expect(new FailingSessionLog({ strict: false }).strict).toBe(false);
    await log.close();
  });
});
