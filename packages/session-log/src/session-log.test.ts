import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Clock, EventType, LogWriteError, type StoredEvent } from '@gatehouse/core';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { anchorMac, readAnchor } from './anchor.js';
import { eventHash, GENESIS_HASH } from './chain.js';
import { INDEX_LAG } from './schema.js';
import { openSessionLog, openSessionLogWithFaults, type SessionLog } from './session-log.js';

const dirs: string[] = [];
const logs: SessionLog[] = [];
afterEach(async () => {
  for (const log of logs.splice(0)) await log.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempPath(name = 'log.db'): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-log-'));
  dirs.push(dir);
  return join(dir, 'nested', 'dir', name);
}

function open(options: Partial<Parameters<typeof openSessionLog>[0]> = {}): SessionLog {
  const log = openSessionLog({ path: tempPath(), ...options });
  logs.push(log);
  return log;
}

const command = (sessionId: string, text: string) => ({
  sessionId,
  type: EventType.Command,
  data: { kind: 'query', text },
});

function rows(path: string): Record<string, unknown>[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT * FROM events ORDER BY seq').all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

describe('openSessionLog', () => {
  it('creates the directory, a WAL database, a private key and a genesis anchor', async () => {
    const log = open();
    expect(existsSync(log.path)).toBe(true);
    expect(statSync(`${log.path}.key`).mode & 0o777).toBe(0o600);
    const key = Buffer.from(readFileSync(`${log.path}.key`, 'utf8').trim(), 'hex');
    expect(key).toHaveLength(32);
    expect(readAnchor(`${log.path}.anchor`)).toEqual({
      seq: 0,
      hash: GENESIS_HASH,
      mac: anchorMac(key, 0, GENESIS_HASH),
    });
    const db = new Database(log.path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    expect(log.strict).toBe(true);
    expect(log.health()).toEqual({ ok: true, lastCommitAt: undefined });
  });

  it('uses the key file it is told to use', async () => {
    const keyFile = join(dirname(tempPath()), 'elsewhere.key');
    const log = open({ anchorKeyFile: keyFile });
    expect(existsSync(keyFile)).toBe(true);
    expect(existsSync(`${log.path}.key`)).toBe(false);
  });

  it('rejects options it cannot honour', () => {
    expect(() => openSessionLog({ path: tempPath(), maxBatch: 0 })).toThrow(LogWriteError);
    expect(() => openSessionLog({ path: tempPath(), synchronous: 'off' as 'full' })).toThrow(/synchronous/);
  });

  it('reports a path it cannot create as unavailable', () => {
    const file = tempPath();
    // A regular file where a directory should be.
    mkdirSync(dirname(dirname(file)), { recursive: true });
    writeFileSync(dirname(file), 'not a directory');
    expect(() => openSessionLog({ path: file })).toThrow(/^session log unavailable: .*\(.*log\.db\)$/);
  });
});

describe('append', () => {
  it('resolves with the stored event once committed, chained from genesis', async () => {
    const clock: Clock = { now: () => new Date(1_700_000_000_000) };
    const log = open({ clock });
    const first = await log.append({
      sessionId: 's1',
      type: EventType.SessionStart,
      data: { protocol: 'test' },
    });
    const second = await log.append(command('s1', 'SELECT 1'));
    expect(first).toEqual({
      seq: 1,
      ts: 1_700_000_000_000,
      sessionId: 's1',
      type: 'session.start',
      data: { protocol: 'test' },
      prevHash: GENESIS_HASH,
      hash: eventHash(1, 1_700_000_000_000, 's1', 'session.start', '{"protocol":"test"}', GENESIS_HASH),
    });
    expect(second.seq).toBe(2);
    expect(second.prevHash).toBe(first.hash);
    // Committed means visible to another connection right away.
    expect(rows(log.path).map((r) => r['hash'])).toEqual([first.hash, second.hash]);
    expect(log.health().ok).toBe(true);
    expect(log.health().lastCommitAt).toBeTypeOf('number');
  });

  it('stores data as the canonical JSON it hashed', async () => {
    const log = open();
    await log.append({ sessionId: 's', type: EventType.Note, data: { z: 1, a: { y: [1, 'x'], b: null } } });
    expect(rows(log.path)[0]?.['data']).toBe('{"a":{"b":null,"y":[1,"x"]},"z":1}');
  });

  it('commits concurrent appends together, in call order, with contiguous sequence numbers', async () => {
    const batches: number[] = [];
    const log = openSessionLogWithFaults({ path: tempPath() }, { onBatch: (size) => batches.push(size) });
    logs.push(log);
    const stored = await Promise.all(
      Array.from({ length: 100 }, (_, i) => log.append(command(`s${i % 7}`, `q${i}`))),
    );
    expect(stored.map((e) => e.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(stored.map((e) => e.data['text'])).toEqual(Array.from({ length: 100 }, (_, i) => `q${i}`));
    expect(batches).toEqual([100]);
    for (let i = 1; i < stored.length; i++) expect(stored[i]?.prevHash).toBe(stored[i - 1]?.hash);
  });

  it('commits a deferred event with the next event that is waited for, in order', async () => {
    const batches: number[] = [];
    const log = openSessionLogWithFaults({ path: tempPath() }, { onBatch: (size) => batches.push(size) });
    logs.push(log);
    await log.append(command('s', 'warm up'));
    const result = log.append({ sessionId: 's', type: EventType.Result, data: { rows: 1 }, defer: true });
    // The deferred result waits; the next command (a later loop turn) takes it along.
    await new Promise((resolve) => setImmediate(resolve));
    const next = await log.append(command('s', 'next'));
    const deferred = await result;
    expect([deferred.seq, next.seq]).toEqual([2, 3]);
    expect(next.prevHash).toBe(deferred.hash);
    expect(batches).toEqual([1, 2]);
  });

  it('commits a deferred event on its own when nothing else comes', async () => {
    const batches: number[] = [];
    const log = openSessionLogWithFaults({ path: tempPath() }, { onBatch: (size) => batches.push(size) });
    logs.push(log);
    await log.append(command('s', 'warm up'));
    const stored = await log.append({ sessionId: 's', type: EventType.Output, data: { t: 1 }, defer: true });
    expect(stored.seq).toBe(2);
    expect(batches).toEqual([1, 1]);
    expect(rows(log.path)).toHaveLength(2);
  });

  it('never writes more than maxBatch events in one transaction', async () => {
    const batches: number[] = [];
    const log = openSessionLogWithFaults(
      { path: tempPath(), maxBatch: 10 },
      { onBatch: (size) => batches.push(size) },
    );
    logs.push(log);
    const stored = await Promise.all(Array.from({ length: 35 }, (_, i) => log.append(command('s', `q${i}`))));
    expect(batches).toEqual([10, 10, 10, 5]);
    expect(stored.at(-1)?.seq).toBe(35);
  });

  it('refuses an event it cannot record without using up a sequence number', async () => {
    const log = open();
    await expect(log.append({ sessionId: 's', type: 'nope' as EventType, data: {} })).rejects.toThrow(
      LogWriteError,
    );
    await expect(log.append({ sessionId: '', type: EventType.Note, data: {} })).rejects.toThrow(/sessionId/);
    const ok = await log.append(command('s', 'x'));
    expect(ok.seq).toBe(1);
    expect(log.health().ok).toBe(true);
  });

  it('removes secrets and applies the redact hook', async () => {
    const log = open({ redact: (data) => ({ ...data, hooked: true }) });
    const e = await log.append({
      sessionId: 's',
      type: EventType.Command,
      data: { text: "ALTER ROLE app PASSWORD 'pw-123'" },
      secrets: ['pw-123'],
    });
    expect(e.data).toEqual({ hooked: true, text: "ALTER ROLE app PASSWORD '[REDACTED]'" });
    expect(rows(log.path)[0]?.['data']).toBe(
      '{"hooked":true,"text":"ALTER ROLE app PASSWORD \'[REDACTED]\'"}',
    );
  });

  it('reports strict as configured and behaves the same either way', async () => {
    const log = open({ strict: false });
    expect(log.strict).toBe(false);
    await expect(log.append(command('s', 'x'))).resolves.toMatchObject({ seq: 1 });
  });
});

describe('close', () => {
  it('commits what is queued, anchors the head, then refuses appends', async () => {
    const log = openSessionLog({ path: tempPath() });
    const pending = Array.from({ length: 5 }, (_, i) => log.append(command('s', `q${i}`)));
    await log.close();
    const stored = await Promise.all(pending);
    const last = stored.at(-1) as StoredEvent;
    expect(readAnchor(`${log.path}.anchor`)).toMatchObject({ seq: 5, hash: last.hash });
    await expect(log.append(command('s', 'late'))).rejects.toThrow(/session log is closed/);
    await log.close();
  });

  it('lets a reopened log continue the chain', async () => {
    const path = tempPath();
    const a = openSessionLog({ path });
    const first = await a.append(command('s', 'one'));
    await a.close();
    const b = openSessionLog({ path });
    logs.push(b);
    const second = await b.append(command('s', 'two'));
    expect(second.seq).toBe(2);
    expect(second.prevHash).toBe(first.hash);
  });
});

describe('append-only database', () => {
  it('refuses UPDATE and DELETE, and any insert that is not the next link', async () => {
    const log = open();
    const e = await log.append(command('s', 'x'));
    const db = new Database(log.path);
    try {
      expect(() => db.prepare("UPDATE events SET data = '{}' WHERE seq = 1").run()).toThrow(
        'session log is append-only',
      );
      expect(() => db.prepare('DELETE FROM events').run()).toThrow('session log is append-only');
      expect(() => db.prepare("UPDATE meta SET value = '9'").run()).toThrow('session log is append-only');
      expect(() => db.prepare('DELETE FROM meta').run()).toThrow('session log is append-only');
      const insert = db.prepare(
        "INSERT INTO events (seq, ts, session_id, type, data, prev_hash, hash) VALUES (?, 1, 's', 'note', '{}', ?, 'x')",
      );
      expect(() => insert.run(5, e.hash)).toThrow(/next link/);
      expect(() => insert.run(2, GENESIS_HASH)).toThrow(/next link/);
      expect(() => insert.run(1, GENESIS_HASH)).toThrow(/UNIQUE|next link/);
      expect(db.prepare('SELECT count(*) FROM events').pluck().get()).toBe(1);
    } finally {
      db.close();
    }
  });
});

describe('recoverOpenSessions', () => {
  it('ends every session that started and never ended, once', async () => {
    const log = open();
    for (const id of ['a', 'b', 'c']) {
      await log.append({ sessionId: id, type: EventType.SessionStart, data: { connection: 'db' } });
    }
    await log.append({ sessionId: 'b', type: EventType.SessionEnd, data: { reason: 'client-closed' } });
    expect(await log.recoverOpenSessions()).toBe(2);
    const ends = rows(log.path).filter((r) => r['type'] === 'session.end');
    expect(ends.map((r) => [r['session_id'], r['data']])).toEqual([
      ['b', '{"reason":"client-closed"}'],
      ['a', '{"reason":"gateway-restart"}'],
      ['c', '{"reason":"gateway-restart"}'],
    ]);
    expect(await log.recoverOpenSessions('gateway-shutdown')).toBe(0);
  });
});

describe('per-session index', () => {
  it('is filled in bulk and readers see indexed and unindexed events alike', async () => {
    const log = open();
    const start = await log.append({
      sessionId: 's1',
      type: EventType.SessionStart,
      data: { connection: 'db' },
    });
    const total = INDEX_LAG + 300;
    await Promise.all(Array.from({ length: total }, (_, i) => log.append(command(`s${i % 3}`, `q${i}`))));
    // Summaries add what the bulk index holds to what is still in the tail.
    expect(log.reader().getSession('s1')).toMatchObject({
      commands: Math.ceil((total - 1) / 3),
      startedAt: new Date(start.ts),
    });
    expect(log.reader().getSession('s1')).not.toHaveProperty('endedAt');
    await log.append({ sessionId: 's1', type: EventType.SessionEnd, data: { reason: 'client-closed' } });
    expect(log.reader().getSession('s1')?.endReason).toBe('client-closed');
    const db = new Database(log.path, { readonly: true });
    const indexed = db.prepare('SELECT count(*) FROM session_events').pluck().get() as number;
    db.close();
    expect(indexed).toBeGreaterThanOrEqual(INDEX_LAG);
    expect(indexed).toBeLessThan(total + 2);
    const s1 = log.reader().events('s1', { limit: 10_000, types: [EventType.Command] });
    expect(s1).toHaveLength(Array.from({ length: total }, (_, i) => i % 3).filter((n) => n === 1).length);
    expect(s1.every((e) => e.sessionId === 's1')).toBe(true);
    expect(s1.map((e) => e.seq)).toEqual([...s1.map((e) => e.seq)].sort((a, b) => a - b));
    // Paging crosses from the bulk index into the unindexed tail without losing or repeating events.
    const paged: number[] = [];
    const types = [EventType.Command];
    for (let page = log.reader().events('s1', { limit: 100, types }); page.length > 0; ) {
      paged.push(...page.map((e) => e.seq));
      page = log.reader().events('s1', { limit: 100, types, afterSeq: page.at(-1)?.seq });
    }
    expect(paged).toEqual(s1.map((e) => e.seq));
    expect(log.reader().events('s2', { types: [EventType.Command], afterSeq: INDEX_LAG })).toHaveLength(
      Array.from({ length: total }, (_, i) => i).filter((i) => i % 3 === 2 && i + 2 > INDEX_LAG).length,
    );
    await log.close();
    const after = new Database(log.path, { readonly: true });
    expect(after.prepare('SELECT count(*) FROM session_events').pluck().get()).toBe(total + 2);
    after.close();
  });
});

function dirname(path: string): string {
  return join(path, '..');
}
