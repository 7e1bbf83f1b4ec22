import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Clock, EventType, LogWriteError } from '@gatehouse/core';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSessionLogReader } from './reader.js';
import { openSessionLog, type SessionLog } from './session-log.js';

let dir: string;
let log: SessionLog;
let now = 0;
const clock: Clock = { now: () => new Date(now) };

beforeEach(() => {
  now = Date.UTC(2025, 0, 1);
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-log-reader-'));
  log = openSessionLog({ path: join(dir, 'log.db'), clock });
});
afterEach(async () => {
  await log.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Scripted {
  id: string;
  connection: string;
  protocol: string;
  subject?: string;
  commands?: number;
  denied?: number;
  end?: string;
}

/** Writes a session the way the gateway does: start, auth, command + decision pairs, end. */
async function session(s: Scripted): Promise<void> {
  now += 1000;
  const append = (type: EventType, data: Record<string, unknown>) =>
    log.append({ sessionId: s.id, type, data });
  await append(EventType.SessionStart, {
    connection: s.connection,
    protocol: s.protocol,
    clientAddress: '10.0.0.7',
  });
  if (s.subject !== undefined) {
    await append(EventType.Auth, {
      method: 'password',
      outcome: 'failure',
      subject: 'intruder',
      reason: 'expired',
    });
    await append(EventType.Auth, {
      method: 'password',
      outcome: 'success',
      subject: s.subject,
      groups: ['agents'],
    });
  }
  for (let i = 0; i < (s.commands ?? 0); i++) {
    await append(EventType.Command, { kind: 'query', text: `SELECT ${i}` });
    await append(EventType.Decision, { action: i < (s.denied ?? 0) ? 'deny' : 'allow' });
  }
  if (s.end !== undefined) {
    now += 500;
    await append(EventType.SessionEnd, { reason: s.end });
  }
}

describe('SessionLogReader', () => {
  beforeEach(async () => {
    await session({
      id: 'a',
      connection: 'orders-db',
      protocol: 'postgres',
      subject: 'agent-1',
      commands: 3,
      denied: 1,
      end: 'client-closed',
    });
    await session({ id: 'b', connection: 'web-1', protocol: 'ssh', subject: 'agent-2', commands: 1 });
    await session({ id: 'c', connection: 'orders-db', protocol: 'postgres', end: 'auth-failed' });
  });

  it('lists sessions newest first, derived from their events', () => {
    const sessions = log.reader().listSessions();
    expect(sessions.map((s) => s.id)).toEqual(['c', 'b', 'a']);
    expect(sessions[2]).toEqual({
      id: 'a',
      connection: 'orders-db',
      protocol: 'postgres',
      clientAddress: '10.0.0.7',
      subject: 'agent-1',
      groups: ['agents'],
      startedAt: new Date(Date.UTC(2025, 0, 1) + 1000),
      endedAt: new Date(Date.UTC(2025, 0, 1) + 1500),
      endReason: 'client-closed',
      commands: 3,
      denied: 1,
    });
    expect(sessions[1]).not.toHaveProperty('endedAt');
    expect(sessions[0]).not.toHaveProperty('subject');
  });

  it('filters by connection, user, protocol, time and limit', () => {
    const ids = (q: Parameters<ReturnType<SessionLog['reader']>['listSessions']>[0]) =>
      log
        .reader()
        .listSessions(q)
        .map((s) => s.id);
    const base = Date.UTC(2025, 0, 1);
    expect(ids({ connection: 'orders-db' })).toEqual(['c', 'a']);
    expect(ids({ user: 'agent-2' })).toEqual(['b']);
    expect(ids({ user: 'intruder' })).toEqual([]);
    expect(ids({ protocol: 'postgres', limit: 1 })).toEqual(['c']);
    expect(ids({ since: new Date(base + 2000) })).toEqual(['c', 'b']);
    expect(ids({ until: new Date(base + 2000) })).toEqual(['a']);
    expect(ids({ since: new Date(base + 2000), until: new Date(base + 3000), connection: 'web-1' })).toEqual([
      'b',
    ]);
    expect(() => ids({ limit: -1 })).toThrow(RangeError);
  });

  it('gets one session, or undefined', () => {
    expect(log.reader().getSession('b')).toMatchObject({
      id: 'b',
      commands: 1,
      denied: 0,
      subject: 'agent-2',
    });
    expect(log.reader().getSession('nope')).toBeUndefined();
  });

  it('counts approvals that were denied or expired as denied', async () => {
    await log.append({
      sessionId: 'b',
      type: EventType.Approval,
      data: { status: 'denied', approver: 'sec' },
    });
    await log.append({ sessionId: 'b', type: EventType.Approval, data: { status: 'expired' } });
    await log.append({ sessionId: 'b', type: EventType.Approval, data: { status: 'approved' } });
    expect(log.reader().getSession('b')?.denied).toBe(2);
  });

  it('pages through a session’s events by sequence number and filters by type', () => {
    const reader = log.reader();
    const all = reader.events('a');
    expect(all.map((e) => e.type)).toEqual([
      'session.start',
      'auth',
      'auth',
      'command',
      'decision',
      'command',
      'decision',
      'command',
      'decision',
      'session.end',
    ]);
    const page = reader.events('a', { afterSeq: all[3]?.seq, limit: 2 });
    expect(page.map((e) => e.seq)).toEqual([all[4]?.seq, all[5]?.seq]);
    expect(reader.events('a', { types: [EventType.Command] }).map((e) => e.data['text'])).toEqual([
      'SELECT 0',
      'SELECT 1',
      'SELECT 2',
    ]);
    expect(all[0]).toMatchObject({ sessionId: 'a', data: { connection: 'orders-db' } });
    expect(all[1]?.prevHash).toBe(all[0]?.hash);
    expect(reader.eventCount()).toBe(17);
  });

  it('lists the events of one type across sessions, for recovery at start', () => {
    const reader = log.reader();
    const starts = reader.eventsOfType(EventType.SessionStart);
    expect(starts.map((e) => e.sessionId)).toEqual(['a', 'b', 'c']);
    expect(reader.eventsOfType('command')).toHaveLength(4);
    expect(
      reader.eventsOfType('command', { afterSeq: starts[1]?.seq, limit: 5 }).map((e) => e.sessionId),
    ).toEqual(['b']);
    expect(reader.eventsOfType(EventType.Approval)).toEqual([]);
  });

  it('opens read-only beside a running writer and sees its new events', async () => {
    const reader = openSessionLogReader(join(dir, 'log.db'));
    try {
      expect(reader.eventCount()).toBe(17);
      await session({ id: 'd', connection: 'k8s', protocol: 'kubernetes', subject: 'agent-3', commands: 2 });
      expect(reader.eventCount()).toBe(24);
      expect(reader.listSessions({ limit: 1 })[0]).toMatchObject({
        id: 'd',
        commands: 2,
        subject: 'agent-3',
      });
    } finally {
      reader.close();
    }
  });
});

describe('openSessionLogReader', () => {
  it('says clearly when there is no log, or the file is not one', () => {
    expect(() => openSessionLogReader(join(dir, 'missing.db'))).toThrow(
      /^session log not found: .*missing\.db$/,
    );
    const other = join(dir, 'other.db');
    new Database(other).close();
    expect(() => openSessionLogReader(other)).toThrow(/other\.db is not a session log/);
    writeFileSync(
      join(dir, 'junk.db'),
      'this is not sqlite at all, just text long enough to look like a header..',
    );
    expect(() => openSessionLogReader(join(dir, 'junk.db'))).toThrow(LogWriteError);
  });

  it('cannot write', async () => {
    await log.append({ sessionId: 's', type: EventType.Note, data: {} });
    const reader = openSessionLogReader(join(dir, 'log.db'));
    const raw = new Database(join(dir, 'log.db'), { readonly: true });
    expect(() => raw.prepare("INSERT INTO meta VALUES ('x', 'y')").run()).toThrow(/readonly/);
    raw.close();
    reader.close();
    reader.close();
  });
});
