import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { LogWriteError } from '@gatehouse/core';
import Database from 'better-sqlite3';
import { type Anchor, anchorPathFor, defaultKeyPathFor, loadKey, macMatches, readAnchor } from './anchor.js';
import { isCanonicalObjectText } from './canonical-json.js';
import { eventHash, GENESIS_HASH } from './chain.js';
import { unavailable } from './log-errors.js';

export interface VerifyOptions {
  /** Key that signed the anchor; `<path>.key` by default. */
  readonly anchorKeyFile?: string;
  /**
   * Heads recorded earlier and kept off this machine (`gatehouse verify --head`). Each must still
   * be in the chain: the event at `seq` exists and has exactly `hash`. Unlike the anchor, these
   * catch a rollback to an older copy and a chain rewritten by someone who also took the key.
   */
  readonly checkpoints?: readonly Checkpoint[];
}

/** One link of the chain, as `seq:hash`. */
export interface Checkpoint {
  readonly seq: number;
  readonly hash: string;
}

const CHECKPOINT = /^(\d{1,15}):([0-9a-f]{64})$/;

/** Parses `seq:hash` as printed by `gatehouse verify --head`; undefined when malformed. */
export function parseCheckpoint(text: string): Checkpoint | undefined {
  const m = CHECKPOINT.exec(text.trim().toLowerCase());
  if (m === null) return undefined;
  const seq = Number(m[1]);
  return Number.isSafeInteger(seq) ? { seq, hash: m[2] as string } : undefined;
}

export interface VerifyResult {
  /** True when every event links and hashes correctly and the signed anchor matches. */
  readonly ok: boolean;
  /** Events checked and found good. */
  readonly events: number;
  /** Last sequence number in the database, 0 when empty. */
  readonly lastSeq: number;
  /** The event the anchor vouches for, when the anchor could be read. */
  readonly anchorSeq?: number;
  /** The newest event that checked out, as `seq:hash` (genesis when empty): copy it off the machine. */
  readonly head?: string;
  /** How many of the given checkpoints were found in the chain. */
  readonly checkpointsMatched?: number;
  /** First event that is missing, altered or inserted; absent when the damage cannot be located. */
  readonly firstBadSeq?: number;
  readonly problem?: string;
  /** Something an operator should know that does not make the log bad. */
  readonly warning?: string;
}

type Row = [
  seq: number,
  ts: unknown,
  sessionId: unknown,
  type: unknown,
  data: unknown,
  prev: unknown,
  hash: unknown,
];

/**
 * Recomputes the whole chain from the stored text and checks it against the signed anchor. Opens
 * the database read-only, so it can run while a gateway writes. Throws a LogWriteError only when
 * the log cannot be read at all; every integrity problem is a result with `ok: false`.
 */
export function verifySessionLog(path: string, options: VerifyOptions = {}): VerifyResult {
  const file = resolve(path);
  if (!existsSync(file))
    throw new LogWriteError(`session log not found: ${file}`, { details: { path: file } });
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true, timeout: 5000 });
  } catch (err) {
    throw unavailable(file, err);
  }
  try {
    // One read transaction, so a gateway writing meanwhile cannot move the end under us.
    return db.transaction(() => verifyOpen(db, file, options))();
  } catch (err) {
    if (err instanceof LogWriteError) throw err;
    throw unavailable(file, err);
  } finally {
    db.close();
  }
}

function verifyOpen(db: Database.Database, file: string, options: VerifyOptions): VerifyResult {
  const hasEvents = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'").get();
  if (hasEvents === undefined)
    throw new LogWriteError(`${file} is not a session log`, { details: { path: file } });

  const anchorPath = anchorPathFor(file);
  let anchor: Anchor | undefined;
  let anchorProblem: string | undefined;
  try {
    anchor = readAnchor(anchorPath);
  } catch (err) {
    anchorProblem = (err as Error).message;
  }

  const lastSeq = (db.prepare('SELECT coalesce(max(seq), 0) FROM events').pluck().get() as number) ?? 0;
  const wanted = new Map<number, string>();
  for (const c of options.checkpoints ?? []) {
    const other = wanted.get(c.seq);
    if (other !== undefined && other !== c.hash) {
      return {
        ok: false,
        events: 0,
        lastSeq,
        problem: `checkpoints disagree about event ${c.seq}: at most one of them can be right`,
      };
    }
    wanted.set(c.seq, c.hash);
  }
  let checkpointsMatched = 0;
  const rows = db
    .prepare('SELECT seq, ts, session_id, type, data, prev_hash, hash FROM events ORDER BY seq')
    .raw()
    .iterate() as IterableIterator<Row>;
  let expected = 1;
  let prev = GENESIS_HASH;
  let prevPrev: string | undefined;
  let anchoredHash: string | undefined = anchor?.seq === 0 ? GENESIS_HASH : undefined;
  const base = { lastSeq, ...(anchor === undefined ? {} : { anchorSeq: anchor.seq }) };
  const bad = (firstBadSeq: number, problem: string): VerifyResult => ({
    ok: false,
    events: firstBadSeq - 1,
    ...base,
    firstBadSeq,
    problem,
  });

  for (const [seq, ts, sessionId, type, data, prevHash, hash] of rows) {
    if (seq !== expected) {
      return bad(expected, `event ${expected} is missing (the next event is ${seq})`);
    }
    if (
      !Number.isSafeInteger(ts) ||
      typeof sessionId !== 'string' ||
      typeof type !== 'string' ||
      typeof data !== 'string' ||
      typeof prevHash !== 'string' ||
      typeof hash !== 'string'
    ) {
      return bad(seq, `event ${seq} has a column of the wrong type (edited by hand)`);
    }
    const selfConsistent = eventHash(seq, ts as number, sessionId, type, data, prevHash) === hash;
    if (prevHash !== prev) {
      // Blame the row that was actually touched: a row that links to its grandparent was
      // inserted before it; a row that is internally sound has a predecessor whose hash changed.
      if (prevHash === prevPrev && seq > 1) {
        return bad(seq - 1, `event ${seq - 1} was inserted (event ${seq} links to event ${seq - 2})`);
      }
      if (selfConsistent && seq > 1) {
        return bad(
          seq - 1,
          `event ${seq - 1} was modified and its hash recomputed (event ${seq} no longer links to it)`,
        );
      }
      return bad(seq, `event ${seq} does not link to the event before it`);
    }
    if (!isCanonicalObjectText(data)) {
      return bad(seq, `event ${seq} data is not the canonical JSON it was written as (edited by hand)`);
    }
    if (!selfConsistent) return bad(seq, `event ${seq} was modified (its hash does not match its content)`);
    if (seq === anchor?.seq) anchoredHash = hash;
    const expectedHash = wanted.get(seq);
    if (expectedHash !== undefined) {
      if (expectedHash !== hash) {
        return bad(
          seq,
          `event ${seq} is not the one recorded in checkpoint ${seq}:${expectedHash}: the log was rewritten or ` +
            'rolled back to another copy',
        );
      }
      checkpointsMatched++;
    }
    prevPrev = prev;
    prev = hash;
    expected++;
  }
  const events = expected - 1;
  const genesisCheckpoint = wanted.get(0);
  if (genesisCheckpoint === GENESIS_HASH) checkpointsMatched++;
  const good = {
    events,
    ...base,
    head: `${events}:${prev}`,
    ...(wanted.size === 0 ? {} : { checkpointsMatched }),
  };
  const fail = (problem: string, firstBadSeq?: number): VerifyResult => ({
    ok: false,
    ...good,
    ...(firstBadSeq === undefined ? {} : { firstBadSeq }),
    problem,
  });
  const missing = [...wanted.keys()].filter((seq) => seq > events).sort((a, b) => a - b)[0];
  if (missing !== undefined) {
    return fail(
      `checkpoint ${missing}:${wanted.get(missing)} names an event the log no longer has (it ends at ${events}): ` +
        'events were removed or the log was rolled back to an older copy',
      events + 1,
    );
  }
  if (genesisCheckpoint !== undefined && genesisCheckpoint !== GENESIS_HASH) {
    return fail('checkpoint 0 is not the genesis hash: it belongs to no session log');
  }

  if (anchorProblem !== undefined) return fail(anchorProblem);
  const indexProblem = checkSessionIndex(db);
  if (anchor === undefined) {
    if (events === 0) return indexProblem === undefined ? { ok: true, ...good } : fail(indexProblem);
    return fail(`anchor file ${anchorPath} is missing: truncation or a rewritten chain cannot be ruled out`);
  }
  const keyPath = resolve(options.anchorKeyFile ?? defaultKeyPathFor(file));
  let key: Buffer;
  try {
    key = loadKey(keyPath);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : (err as Error).message;
    return fail(`anchor key file ${keyPath} cannot be read (${why}): a rewritten chain cannot be ruled out`);
  }
  if (!macMatches(key, anchor)) {
    return fail(
      `anchor file ${anchorPath} is not signed by the key in ${keyPath} (edited, or the wrong key)`,
    );
  }
  if (anchor.seq > events) {
    return fail(
      `the log ends at event ${events} but its anchor vouches for event ${anchor.seq}: events were removed ` +
        '(tail truncated, or rows deleted and the rest renumbered)',
      events + 1,
    );
  }
  if (anchoredHash !== anchor.hash) {
    return fail(
      `event ${anchor.seq} does not match the anchor: the chain was rewritten (hashes recomputed) by someone ` +
        'without the anchor key; the altered event cannot be located',
    );
  }
  if (indexProblem !== undefined) return fail(indexProblem);
  if (events > anchor.seq) {
    return {
      ok: true,
      ...good,
      warning:
        `events ${anchor.seq + 1}..${events} come after the anchor: normal while a gateway writes or after a crash, ` +
        'otherwise they may have been appended by hand',
    };
  }
  return { ok: true, ...good };
}

/**
 * session_events is derived, not chained, so verify compares it with the events: a doctored index
 * would make `sessions show` hide events or show them under another session.
 */
function checkSessionIndex(db: Database.Database): string | undefined {
  const upto = db.prepare('SELECT coalesce(max(upto), 0) FROM index_runs').pluck().get() as number;
  const count = db.prepare('SELECT count(*) FROM session_events').pluck().get() as number;
  const stray = db
    .prepare(
      `SELECT count(*) FROM session_events i LEFT JOIN events e ON e.seq = i.seq
       WHERE e.seq IS NULL OR e.session_id IS NOT i.session_id OR e.type IS NOT i.type OR i.seq > ?`,
    )
    .pluck()
    .get(upto) as number;
  if (count === upto && stray === 0) return undefined;
  return (
    'the per-session index does not match the events (edited by hand): session listings may hide or ' +
    'misattribute events, though the events themselves are intact'
  );
}
