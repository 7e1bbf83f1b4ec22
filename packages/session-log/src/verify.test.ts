import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventType, LogWriteError } from '@gatehouse/core';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { anchorMac, anchorPathFor, defaultKeyPathFor, loadKey } from './anchor.js';
import { eventHash, GENESIS_HASH } from './chain.js';
import { openSessionLog } from './session-log.js';
import { parseCheckpoint, verifySessionLog } from './verify.js';

let dir: string;
let path: string;
const EVENTS = 20;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-log-verify-'));
  path = join(dir, 'log.db');
  const log = openSessionLog({ path });
  for (let i = 0; i < EVENTS; i++) {
    await log.append({
      sessionId: `s${i % 3}`,
      type: EventType.Command,
      data: { kind: 'query', text: `SELECT ${i}` },
    });
  }
  await log.close();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

type Row = {
  seq: number;
  ts: number;
  session_id: string;
  type: string;
  data: string;
  prev_hash: string;
  hash: string;
};

/** What an attacker with write access to the file does first: switch the guards off. */
function tamper(fn: (db: Database.Database) => void): void {
  const db = new Database(path);
  try {
    db.exec(`DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete; DROP TRIGGER events_next_link;
             DROP TRIGGER session_events_no_delete; DROP TRIGGER session_events_no_update;`);
    fn(db);
  } finally {
    db.close();
  }
}

const hashOf = (r: Omit<Row, 'hash'>) => eventHash(r.seq, r.ts, r.session_id, r.type, r.data, r.prev_hash);
const all = (db: Database.Database) => db.prepare('SELECT * FROM events ORDER BY seq').all() as Row[];
const setHash = (db: Database.Database, seq: number, column: 'hash' | 'prev_hash', value: string) =>
  db.prepare(`UPDATE events SET ${column} = ? WHERE seq = ?`).run(value, seq);

/** Recomputes every link from `from` on, as someone who knows the encoding but not the key would. */
function rechain(db: Database.Database, from = 1): void {
  let prev = from === 1 ? GENESIS_HASH : (all(db)[from - 2] as Row).hash;
  for (const row of all(db).filter((r) => r.seq >= from)) {
    const hash = hashOf({ ...row, prev_hash: prev });
    db.prepare('UPDATE events SET prev_hash = ?, hash = ? WHERE seq = ?').run(prev, hash, row.seq);
    prev = hash;
  }
}

describe('verifySessionLog', () => {
  it('accepts an intact log', () => {
    const last = (() => {
      const db = new Database(path, { readonly: true });
      try {
        return all(db).at(-1) as Row;
      } finally {
        db.close();
      }
    })();
    expect(verifySessionLog(path)).toEqual({
      ok: true,
      events: EVENTS,
      lastSeq: EVENTS,
      anchorSeq: EVENTS,
      head: `${EVENTS}:${last.hash}`,
    });
  });

  it('finds an edited row', () => {
    tamper((db) =>
      db.prepare(`UPDATE events SET data = '{"kind":"query","text":"SELECT 1"}' WHERE seq = 7`).run(),
    );
    expect(verifySessionLog(path)).toMatchObject({
      ok: false,
      firstBadSeq: 7,
      events: 6,
      problem: expect.stringMatching(/event 7 was modified/),
    });
  });

  it('finds an edit that left the JSON non-canonical', () => {
    tamper((db) =>
      db.prepare('UPDATE events SET data = replace(data, \'":"\', \'": "\') WHERE seq = 7').run(),
    );
    expect(verifySessionLog(path)).toMatchObject({
      ok: false,
      firstBadSeq: 7,
      problem: expect.stringMatching(/canonical/),
    });
  });

  it('finds an edited row whose own hash was recomputed', () => {
    tamper((db) => {
      db.prepare(`UPDATE events SET data = '{"kind":"query","text":"SELECT harmless"}' WHERE seq = 7`).run();
      setHash(db, 7, 'hash', hashOf(all(db)[6] as Row));
    });
    expect(verifySessionLog(path)).toMatchObject({
      ok: false,
      firstBadSeq: 7,
      problem: expect.stringMatching(/event 7 was modified and its hash recomputed/),
    });
  });

  it('finds a deleted row', () => {
    tamper((db) => db.prepare('DELETE FROM events WHERE seq = 7').run());
    expect(verifySessionLog(path)).toMatchObject({
      ok: false,
      firstBadSeq: 7,
      problem: 'event 7 is missing (the next event is 8)',
    });
  });

  it('finds a deleted row when the rest were renumbered', () => {
    tamper((db) => {
      db.prepare('DELETE FROM events WHERE seq = 7').run();
      db.prepare('UPDATE events SET seq = -seq WHERE seq > 7').run();
      db.prepare('UPDATE events SET seq = -seq - 1 WHERE seq < 0').run();
    });
    expect(verifySessionLog(path)).toMatchObject({ ok: false, firstBadSeq: 7 });
  });

  it('finds a row inserted in the middle', () => {
    tamper((db) => {
      db.prepare('UPDATE events SET seq = -seq WHERE seq >= 7').run();
      db.prepare('UPDATE events SET seq = -seq + 1 WHERE seq < 0').run();
      const prev = (all(db)[5] as Row).hash;
      const row = {
        seq: 7,
        ts: 1,
        session_id: 's0',
        type: 'command',
        data: '{"kind":"query","text":"SELECT forged"}',
        prev_hash: prev,
      };
      db.prepare('INSERT INTO events VALUES (@seq, @ts, @session_id, @type, @data, @prev_hash, @hash)').run({
        ...row,
        hash: hashOf(row),
      });
    });
    expect(verifySessionLog(path)).toMatchObject({
      ok: false,
      firstBadSeq: 7,
      problem: expect.stringMatching(/event 7 was inserted/),
    });
  });

  it('finds a row appended with a wrong hash', () => {
    tamper((db) => {
      const last = all(db).at(-1) as Row;
      db.prepare("INSERT INTO events VALUES (21, 1, 's0', 'note', '{}', ?, ?)").run(
        last.hash,
        'f'.repeat(64),
      );
    });
    expect(verifySessionLog(path)).toMatchObject({ ok: false, firstBadSeq: 21 });
  });

  it('warns about a well-formed row appended after the anchor', () => {
    tamper((db) => {
      const last = all(db).at(-1) as Row;
      const row = { seq: 21, ts: 1, session_id: 's0', type: 'note', data: '{}', prev_hash: last.hash };
      db.prepare('INSERT INTO events VALUES (@seq, @ts, @session_id, @type, @data, @prev_hash, @hash)').run({
        ...row,
        hash: hashOf(row),
      });
    });
    const result = verifySessionLog(path);
    expect(result).toMatchObject({
      ok: true,
      events: 21,
      anchorSeq: 20,
      warning: expect.stringMatching(/events 21\.\.21 come after the anchor/),
    });
  });

  it('finds a truncated tail', () => {
    tamper((db) => db.prepare('DELETE FROM events WHERE seq > 15').run());
    expect(verifySessionLog(path)).toMatchObject({
      ok: false,
      events: 15,
      lastSeq: 15,
      anchorSeq: 20,
      firstBadSeq: 16,
      problem: expect.stringMatching(/truncated/),
    });
  });

  it('finds an emptied log', () => {
    tamper((db) => db.prepare('DELETE FROM events').run());
    expect(verifySessionLog(path)).toMatchObject({ ok: false, firstBadSeq: 1 });
  });

  it('finds a chain recomputed after an edit by someone without the key', () => {
    tamper((db) => {
      db.prepare(`UPDATE events SET data = '{"kind":"query","text":"SELECT harmless"}' WHERE seq = 7`).run();
      rechain(db, 7);
    });
    const result = verifySessionLog(path);
    expect(result.ok).toBe(false);
    expect(result.problem).toMatch(/event 20 does not match the anchor: the chain was rewritten/);
    expect(result.firstBadSeq).toBeUndefined();
  });

  it('finds a recomputed chain that also moved the anchor without the key', () => {
    tamper((db) => {
      db.prepare('DELETE FROM events WHERE seq > 15').run();
      rechain(db, 1);
    });
    // Point the anchor at the new end; without the key the old MAC is all the attacker has.
    const anchor = JSON.parse(readFileSync(`${path}.anchor`, 'utf8')) as { seq: number; mac: string };
    const db = new Database(path, { readonly: true });
    const last = all(db).at(-1) as Row;
    db.close();
    writeFileSync(`${path}.anchor`, JSON.stringify({ ...anchor, seq: last.seq, hash: last.hash }));
    expect(verifySessionLog(path)).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/not signed by the key/),
    });
  });

  it('reports a missing or unreadable anchor, and a missing or different key', () => {
    renameSync(`${path}.anchor`, `${path}.anchor.bak`);
    expect(verifySessionLog(path)).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/anchor file .* is missing/),
    });
    writeFileSync(`${path}.anchor`, 'garbage');
    expect(verifySessionLog(path)).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/not valid JSON/),
    });
    renameSync(`${path}.anchor.bak`, `${path}.anchor`);

    expect(verifySessionLog(path, { anchorKeyFile: join(dir, 'nope.key') })).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/cannot be read \(does not exist\)/),
    });
    writeFileSync(join(dir, 'other.key'), `${'ab'.repeat(32)}\n`);
    expect(verifySessionLog(path, { anchorKeyFile: join(dir, 'other.key') })).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/not signed by the key/),
    });
  });

  it('finds a doctored per-session index', () => {
    tamper((db) => db.prepare("UPDATE session_events SET session_id = 's9' WHERE seq = 4").run());
    expect(verifySessionLog(path)).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/per-session index/),
    });
  });

  it('runs while a gateway writes', async () => {
    const log = openSessionLog({ path });
    try {
      await log.append({ sessionId: 's', type: EventType.Note, data: {} });
      expect(verifySessionLog(path)).toMatchObject({ ok: true, lastSeq: EVENTS + 1 });
    } finally {
      await log.close();
    }
  });

  it('throws when there is nothing to verify', () => {
    expect(() => verifySessionLog(join(dir, 'missing.db'))).toThrow(LogWriteError);
    new Database(join(dir, 'empty.db')).close();
    expect(() => verifySessionLog(join(dir, 'empty.db'))).toThrow(/is not a session log/);
  });
});

describe('the writer on a tampered log', () => {
  it('refuses to open a truncated log', () => {
    tamper((db) => db.prepare('DELETE FROM events WHERE seq > 15').run());
    expect(() => openSessionLog({ path })).toThrow(
      /failed its integrity check: the log ends at event 15 but its anchor vouches for event 20/,
    );
  });

  it('refuses to open a recomputed chain', () => {
    tamper((db) => {
      db.prepare(`UPDATE events SET data = '{}' WHERE seq = 3`).run();
      rechain(db, 3);
    });
    expect(() => openSessionLog({ path })).toThrow(/event 20 does not match its anchor/);
  });

  it('refuses to open without its anchor', () => {
    rmSync(`${path}.anchor`);
    expect(() => openSessionLog({ path })).toThrow(/anchor file .* is missing but the log holds 20 events/);
  });

  it('refuses to chain onto a broken row after the anchor', () => {
    tamper((db) => {
      const last = all(db).at(-1) as Row;
      db.prepare("INSERT INTO events VALUES (21, 1, 's0', 'note', '{}', ?, 'bad')").run(last.hash);
    });
    expect(() => openSessionLog({ path })).toThrow(
      /event 21, after the anchored event 20, is not a valid link/,
    );
  });
});

describe('checkpoints kept off the machine', () => {
  const headOf = () => verifySessionLog(path).head as string;
  const checkpoint = (text: string) =>
    parseCheckpoint(text) as NonNullable<ReturnType<typeof parseCheckpoint>>;
  /** What someone holding the anchor key can do that the anchor alone cannot catch. */
  const resign = () => {
    const key = loadKey(defaultKeyPathFor(path));
    const db = new Database(path, { readonly: true });
    const last = all(db).at(-1) as Row;
    db.close();
    writeFileSync(
      anchorPathFor(path),
      JSON.stringify({ seq: last.seq, hash: last.hash, mac: anchorMac(key, last.seq, last.hash) }),
    );
  };

  it('parses SEQ:HASH and nothing else', () => {
    expect(parseCheckpoint(`7:${'a'.repeat(64)}`)).toEqual({ seq: 7, hash: 'a'.repeat(64) });
    expect(parseCheckpoint(` 7:${'A'.repeat(64)}\n`)).toEqual({ seq: 7, hash: 'a'.repeat(64) });
    for (const bad of [
      '',
      '7',
      `7:${'a'.repeat(63)}`,
      `-1:${'a'.repeat(64)}`,
      `x:${'a'.repeat(64)}`,
      `7:${'g'.repeat(64)}`,
    ])
      expect(parseCheckpoint(bad)).toBeUndefined();
  });

  it('accepts the heads recorded earlier while the log grows', async () => {
    const early = headOf();
    const log = openSessionLog({ path });
    await log.append({
      sessionId: 's9',
      type: EventType.Command,
      data: { kind: 'query', text: 'SELECT 99' },
    });
    await log.close();
    const result = verifySessionLog(path, {
      checkpoints: [checkpoint(early), checkpoint(`0:${GENESIS_HASH}`)],
    });
    expect(result).toMatchObject({ ok: true, events: EVENTS + 1, checkpointsMatched: 2 });
    expect(result.head).not.toBe(early);
  });

  it('catches a chain rewritten and re-signed by someone who took the anchor key', () => {
    const recorded = checkpoint(headOf());
    tamper((db) => {
      db.prepare(`UPDATE events SET data = '{"kind":"query","text":"SELECT harmless"}' WHERE seq = 7`).run();
      rechain(db, 7);
    });
    resign();
    expect(verifySessionLog(path).ok).toBe(true);
    expect(verifySessionLog(path, { checkpoints: [recorded] })).toMatchObject({
      ok: false,
      firstBadSeq: EVENTS,
      problem: expect.stringMatching(/not the one recorded in checkpoint .*rewritten or rolled back/),
    });
  });

  it('catches a rollback to an older copy of the log and its valid anchor', async () => {
    const copy = join(dir, 'copy');
    const files = ['log.db', 'log.db.anchor'];
    mkdirSync(copy);
    for (const f of files) copyFileSync(join(dir, f), join(copy, f));
    const log = openSessionLog({ path });
    for (let i = 0; i < 5; i++)
      await log.append({ sessionId: 's1', type: EventType.Command, data: { kind: 'query', text: 'DROP' } });
    await log.close();
    const recorded = checkpoint(headOf());
    for (const f of [...files, 'log.db-wal', 'log.db-shm']) rmSync(join(dir, f), { force: true });
    for (const f of files) copyFileSync(join(copy, f), join(dir, f));
    expect(verifySessionLog(path).ok).toBe(true);
    expect(verifySessionLog(path, { checkpoints: [recorded] })).toMatchObject({
      ok: false,
      firstBadSeq: EVENTS + 1,
      problem: expect.stringMatching(/names an event the log no longer has/),
    });
  });

  it('refuses checkpoints that contradict each other', () => {
    expect(
      verifySessionLog(path, {
        checkpoints: [checkpoint(`3:${'a'.repeat(64)}`), checkpoint(`3:${'b'.repeat(64)}`)],
      }),
    ).toMatchObject({ ok: false, problem: expect.stringMatching(/disagree about event 3/) });
  });
});
