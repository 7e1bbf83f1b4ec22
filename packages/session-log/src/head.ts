import { LogWriteError } from '@gatehouse/core';
import type Database from 'better-sqlite3';
import { macMatches, readAnchor } from './anchor.js';
import { eventHash, GENESIS_HASH } from './chain.js';

export interface Head {
  readonly seq: number;
  readonly hash: string;
  /** Whether an anchor file vouched for (a prefix of) this log when it was opened. */
  readonly anchored: boolean;
}

export function readHead(db: Database.Database): Omit<Head, 'anchored'> {
  const row = db.prepare('SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1').get() as
    | { seq: number; hash: string }
    | undefined;
  return row ?? { seq: 0, hash: GENESIS_HASH };
}

/**
 * The writer refuses to extend a log that does not match its anchor: writing on would replace the
 * anchor and erase the evidence. It only looks at the anchored event and the events after it, so
 * opening stays fast; `verifySessionLog` checks everything.
 */
export function checkAgainstAnchor(
  db: Database.Database,
  path: string,
  anchorPath: string,
  key: Buffer,
): Head {
  const head = readHead(db);
  const refuse = (why: string): never => {
    throw new LogWriteError(
      `session log ${path} failed its integrity check: ${why}; run \`gatehouse verify\``,
      {
        details: { path, anchorPath },
      },
    );
  };
  let anchor: ReturnType<typeof readAnchor>;
  try {
    anchor = readAnchor(anchorPath);
  } catch (err) {
    return refuse((err as Error).message);
  }
  if (anchor === undefined) {
    if (head.seq > 0) refuse(`the anchor file ${anchorPath} is missing but the log holds ${head.seq} events`);
    return { ...head, anchored: false };
  }
  if (!macMatches(key, anchor)) {
    refuse(`the anchor file ${anchorPath} is not signed by the anchor key (edited, or a different key file)`);
  }
  if (anchor.seq > head.seq) {
    refuse(`the log ends at event ${head.seq} but its anchor vouches for event ${anchor.seq} (truncated)`);
  }
  let prev = GENESIS_HASH;
  if (anchor.seq > 0) {
    const row = db.prepare('SELECT hash FROM events WHERE seq = ?').get(anchor.seq) as
      | { hash: string }
      | undefined;
    prev = row?.hash ?? '';
  }
  if (prev !== anchor.hash) refuse(`event ${anchor.seq} does not match its anchor (the chain was rewritten)`);
  // Events past the anchor are normally the last batch before a crash. Their links are checked so
  // that at least a carelessly appended row is caught before this writer chains onto it.
  const bad = firstBadLinkAfter(db, anchor.seq, prev);
  if (bad !== undefined) {
    refuse(`event ${bad}, after the anchored event ${anchor.seq}, is not a valid link of the chain`);
  }
  return { ...head, anchored: true };
}

/**
 * Walks the events after `seq` (whose hash is `hash`) and returns the first one that is not the
 * next valid link of the chain, or undefined when they all are.
 */
export function firstBadLinkAfter(db: Database.Database, seq: number, hash: string): number | undefined {
  const tail = db
    .prepare('SELECT seq, ts, session_id, type, data, prev_hash, hash FROM events WHERE seq > ? ORDER BY seq')
    .raw()
    .iterate(seq) as IterableIterator<[number, number, string, string, string, string, string]>;
  let prev = hash;
  let expected = seq + 1;
  for (const [rowSeq, ts, sessionId, type, data, prevHash, rowHash] of tail) {
    if (
      rowSeq !== expected ||
      prevHash !== prev ||
      eventHash(rowSeq, ts, sessionId, type, data, prevHash) !== rowHash
    ) {
      return expected;
    }
    prev = rowHash;
    expected++;
  }
  return undefined;
}
