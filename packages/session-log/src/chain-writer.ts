import { LogWriteError } from '@gatehouse/core';
import type Database from 'better-sqlite3';
import { eventHash, type PreparedEvent } from './chain.js';
import { openWriteConnection } from './connection.js';
import { readHead } from './head.js';
import { unavailable } from './log-errors.js';
import { INDEX_LAG, indexStatements, readIndexedUpto } from './schema.js';

const INSERT_SQL =
  'INSERT INTO events (seq, ts, session_id, type, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)';
/** SQLite's own default; what `max_page_count` returns to when a simulated full disk is cleared. */
const MAX_PAGE_COUNT = 4294967294;

/**
 * Failures a test can make the log suffer. `full` and `readonly` switch SQLite itself into the
 * state a full or read-only disk gives; `ioerr` throws what an I/O error throws; `lost-answer`
 * commits a batch and then fails as if the answer had been lost (the batch is on disk, its callers
 * were told it failed); `slow` makes each flush — the fsync that makes commits durable — take `ms`
 * longer, as a slow disk does; `sync-error` makes the next flush fail as a dying disk's does.
 */
export type WriterFault =
  | { readonly kind: 'none' }
  | { readonly kind: 'full' }
  | { readonly kind: 'readonly' }
  | { readonly kind: 'ioerr' }
  | { readonly kind: 'lost-answer' }
  | { readonly kind: 'slow'; readonly ms: number }
  | { readonly kind: 'sync-error' };

export const NO_FAULT: WriterFault = { kind: 'none' };

/** A batch as it went into the chain: its first sequence number, the link before it, each hash. */
export interface CommittedBatch {
  readonly firstSeq: number;
  readonly prevHash: string;
  readonly hashes: readonly string[];
}

interface Attempt {
  readonly seq: number;
  readonly hash: string;
  readonly indexedUpto: number;
}

/**
 * The writing half of the session log: owns the write connection, chains and inserts events and
 * commits them, and fills the per-session index in bulk. Synchronous and cheap: the connection runs
 * with `synchronous = NORMAL`, so a commit writes the WAL without waiting for the disk (it survives
 * a crash of the process at once; the log syncs the WAL itself when it must also survive power
 * loss), and it never checkpoints (the checkpointer thread does, off the event loop).
 *
 * Chaining happens against the head this writer knows to be committed, so a failed batch never
 * leaves a gap or a dangling link behind it: the next batch is chained as if it had never been
 * tried.
 */
export class ChainWriter {
  readonly #path: string;
  readonly #db: Database.Database;
  readonly #tx: (events: readonly PreparedEvent[], from: number, to: number) => string[];
  readonly #indexTail: () => void;
  #headSeq: number;
  #headHash: string;
  #indexedUpto: number;
  /** Head after the newest batch tried; if its commit failed it may still have reached the disk. */
  #attempted: Attempt | undefined;
  #mustResync = false;
  #fault: WriterFault = NO_FAULT;
  #faultsUsed = false;

  /**
   * Opens the write connection; `head` is what the log was checked against when it was opened, and
   * `walLimitBytes` the size the WAL file is cut back to when it starts over.
   */
  constructor(path: string, head: { readonly seq: number; readonly hash: string }, walLimitBytes: number) {
    this.#path = path;
    const db = openWriteConnection(path, walLimitBytes);
    try {
      const found = readHead(db);
      if (found.seq !== head.seq || found.hash !== head.hash) {
        throw new LogWriteError(
          `session log unavailable: it was changed by another process while it was opened (${path})`,
          { details: { path } },
        );
      }
      this.#headSeq = head.seq;
      this.#headHash = head.hash;
      this.#indexedUpto = readIndexedUpto(db);
      const insert = db.prepare(INSERT_SQL);
      const index = indexStatements(db);
      this.#tx = db.transaction((events: readonly PreparedEvent[], from: number, to: number): string[] => {
        let seq = this.#headSeq;
        let prev = this.#headHash;
        const hashes: string[] = new Array(to - from);
        for (let i = from; i < to; i++) {
          const e = events[i] as PreparedEvent;
          const hash = eventHash(++seq, e.ts, e.sessionId, e.type, e.dataJson, prev);
          insert.run(seq, e.ts, e.sessionId, e.type, e.dataJson, prev, hash);
          hashes[i - from] = hash;
          prev = hash;
        }
        let indexedUpto = this.#indexedUpto;
        if (seq - indexedUpto >= INDEX_LAG) {
          index(indexedUpto, seq);
          indexedUpto = seq;
        }
        this.#attempted = { seq, hash: prev, indexedUpto };
        return hashes;
      }).immediate;
      this.#indexTail = db.transaction(() => {
        index(this.#indexedUpto, this.#headSeq);
        this.#indexedUpto = this.#headSeq;
      }).immediate;
      if (this.#headSeq > this.#indexedUpto) this.#indexTail();
    } catch (err) {
      db.close();
      throw err instanceof LogWriteError ? err : unavailable(path, err);
    }
    this.#db = db;
  }

  get head(): { readonly seq: number; readonly hash: string } {
    return { seq: this.#headSeq, hash: this.#headHash };
  }

  get fault(): WriterFault {
    return this.#fault;
  }

  injectFault(fault: WriterFault): void {
    this.#fault = fault;
    this.#faultsUsed = true;
  }

  /** Chains, inserts and commits `events[from..to)`; throws a LogWriteError when it cannot. */
  commit(events: readonly PreparedEvent[], from: number, to: number): CommittedBatch {
    let firstSeq: number;
    let prevHash: string;
    let hashes: string[];
    try {
      if (this.#mustResync) this.#resync();
      firstSeq = this.#headSeq + 1;
      prevHash = this.#headHash;
      if (this.#faultsUsed) this.#applyFault();
      hashes = this.#tx(events, from, to);
    } catch (err) {
      this.#mustResync = true;
      throw err instanceof LogWriteError ? err : unavailable(this.#path, err);
    }
    if (this.#fault.kind === 'lost-answer') {
      this.#mustResync = true;
      throw unavailable(
        this.#path,
        Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_WRITE' }),
      );
    }
    const attempted = this.#attempted as Attempt;
    this.#headSeq = attempted.seq;
    this.#headHash = attempted.hash;
    this.#indexedUpto = attempted.indexedUpto;
    return { firstSeq, prevHash, hashes };
  }

  /**
   * A passive checkpoint on this connection, between its own transactions: with no other writer it
   * copies every frame, so the next commit starts the WAL over. For when the checkpointer thread
   * cannot catch up because commits never pause.
   */
  checkpoint(): void {
    this.#db.pragma('wal_checkpoint(PASSIVE)');
  }

  /** Indexes what is left unindexed (so readers need not scan a tail) and closes the connection. */
  close(): LogWriteError | undefined {
    let problem: LogWriteError | undefined;
    try {
      if (!this.#mustResync && this.#headSeq > this.#indexedUpto) this.#indexTail();
    } catch (err) {
      problem = unavailable(this.#path, err);
    }
    try {
      this.#db.close();
    } catch (err) {
      problem ??= unavailable(this.#path, err);
    }
    return problem;
  }

  /**
   * After a failed commit the database is the truth. Its head must be ours (the batch rolled back)
   * or the failed batch's last event (the commit reached the disk after all). Anything else means
   * another process wrote to the log, and chaining on top would vouch for events nobody saw.
   */
  #resync(): void {
    const head = readHead(this.#db);
    const attempted = this.#attempted;
    if (attempted !== undefined && head.seq === attempted.seq && head.hash === attempted.hash) {
      this.#headSeq = attempted.seq;
      this.#headHash = attempted.hash;
      this.#indexedUpto = readIndexedUpto(this.#db);
    } else if (head.seq !== this.#headSeq || head.hash !== this.#headHash) {
      throw new LogWriteError(
        `session log unavailable: it was changed by another process (expected event ${this.#headSeq}, found ${head.seq}) (${this.#path})`,
        { details: { path: this.#path } },
      );
    }
    this.#mustResync = false;
  }

  #applyFault(): void {
    const fault = this.#fault.kind;
    const db = this.#db;
    db.pragma(
      `max_page_count = ${fault === 'full' ? db.pragma('page_count', { simple: true }) : MAX_PAGE_COUNT}`,
    );
    db.pragma(`query_only = ${fault === 'readonly' ? 1 : 0}`);
    if (fault === 'ioerr') throw Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_WRITE' });
  }
}
