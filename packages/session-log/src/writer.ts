import { LogWriteError } from '@gatehouse/core';
import type Database from 'better-sqlite3';
import { AnchorWriter } from './anchor-writer.js';
import { eventHash } from './chain.js';
import { openWriteConnection } from './connection.js';
import { adoptHead, readHead } from './head.js';
import { unavailable } from './log-errors.js';
import { INDEX_LAG, indexStatements, readIndexedUpto } from './schema.js';
import {
  type EventColumns,
  type FromWriter,
  type ToWriter,
  toWire,
  type WriterConfig,
  type WriterFault,
} from './writer-protocol.js';

const INSERT_SQL =
  'INSERT INTO events (seq, ts, session_id, type, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)';
/** SQLite's own default; what `max_page_count` returns to when a simulated full disk is cleared. */
const MAX_PAGE_COUNT = 4294967294;

interface Attempt {
  readonly seq: number;
  readonly hash: string;
  readonly indexedUpto: number;
}

/** Part of the events of one message that goes into a batch. */
interface Slice {
  readonly events: EventColumns;
  readonly from: number;
  readonly to: number;
}

type Entry =
  | { readonly kind: 'events'; readonly events: EventColumns; pos: number }
  | { readonly kind: 'fault'; readonly fault: WriterFault }
  | { readonly kind: 'close' };

/**
 * The writing half of the session log, run in its own thread: it owns the write connection, chains
 * and inserts events, commits (the fsync blocks this thread, not the gateway's), fills the
 * per-session index and keeps the anchor file following the head.
 *
 * Events arrive in messages, in the order `append` was called. Whatever arrived while a batch was
 * committing forms the next batch (up to `maxBatch`), so batches grow with load. Chaining happens
 * here, against the head this writer knows to be committed, so a failed batch never leaves a gap or
 * a dangling link behind it: the next batch is chained as if it had never been tried.
 */
export class BatchWriter {
  readonly #config: WriterConfig;
  readonly #post: (message: FromWriter) => void;
  readonly #pull: () => ToWriter | undefined;
  readonly #onClosed: () => void;
  #db: Database.Database | undefined;
  #writeBatch: ((first: Slice) => string) | undefined;
  #indexTail: (() => void) | undefined;
  #anchor: AnchorWriter | undefined;
  #anchorFailed = false;
  #headSeq = 0;
  #headHash = '';
  #indexedUpto = 0;
  /** Head after the newest batch tried; if its commit failed it may still have reached the disk. */
  #attempted: Attempt | undefined;
  #mustResync = false;
  #queue: Entry[] = [];
  #scheduled: NodeJS.Immediate | undefined;
  #fault: WriterFault;
  #faultsUsed: boolean;
  #closing = false;
  /** Events taken from the queue for the batch being written. */
  #taken = 0;

  /**
   * `pull` returns a message that arrived and was not delivered yet, without waiting; `onClosed`
   * runs once the database is closed and `closed` was posted.
   */
  constructor(
    config: WriterConfig,
    post: (message: FromWriter) => void,
    pull: () => ToWriter | undefined,
    onClosed: () => void,
  ) {
    this.#config = config;
    this.#post = post;
    this.#pull = pull;
    this.#onClosed = onClosed;
    this.#fault = config.fault;
    this.#faultsUsed = config.fault.kind !== 'none';
  }

  /** Opens the database; posts `ready`, or `fatal` and returns false. */
  open(): boolean {
    const { path, synchronous, expected, unconfirmed } = this.#config;
    let db: Database.Database | undefined;
    try {
      db = openWriteConnection(path, synchronous);
      const head = adoptHead(db, path, expected, unconfirmed);
      this.#headSeq = head.seq;
      this.#headHash = head.hash;
      this.#indexedUpto = readIndexedUpto(db);
      this.#prepare(db);
      if (this.#headSeq > this.#indexedUpto) this.#indexTail?.();
    } catch (err) {
      db?.close();
      this.#db = undefined;
      this.#post({ kind: 'fatal', error: toWire(asLogError(path, err)) });
      return false;
    }
    this.#db = db;
    const key = Buffer.from(this.#config.keyHex, 'hex');
    this.#anchor = new AnchorWriter(
      this.#config.anchorPath,
      key,
      synchronous === 'full',
      (err, idle) => this.#anchorFinished(err, idle),
      this.#config.anchorIntervalMs,
    );
    this.#post({ kind: 'ready', head: { seq: this.#headSeq, hash: this.#headHash } });
    return true;
  }

  receive(message: ToWriter): void {
    if (this.#closing) return;
    this.#enqueue(message);
    // setImmediate rather than working right away: every message that arrived while the last batch
    // was committing is delivered first and joins the next batch.
    this.#scheduled ??= setImmediate(() => this.#work());
  }

  #enqueue(message: ToWriter): void {
    switch (message.kind) {
      case 'events':
        this.#queue.push({ kind: 'events', events: message, pos: 0 });
        break;
      case 'fault':
        this.#queue.push({ kind: 'fault', fault: message.fault });
        break;
      case 'close':
        this.#queue.push({ kind: 'close' });
        break;
    }
  }

  #prepare(db: Database.Database): void {
    const insert = db.prepare(INSERT_SQL);
    const index = indexStatements(db);
    const tx = db.transaction((first: Slice): string => {
      const max = this.#config.maxBatch;
      let seq = this.#headSeq;
      let prev = this.#headHash;
      let hashes = '';
      // Events that arrive while this batch is being inserted join it: the commit, the slow part,
      // comes once nothing more is waiting. This also lets the main thread hand events over in
      // chunks as it prepares them, without each chunk becoming a commit of its own.
      for (let slice: Slice | undefined = first; slice !== undefined; slice = this.#take(max - this.#taken)) {
        const { ts, sessionIds, types, data } = slice.events;
        for (let i = slice.from; i < slice.to; i++) {
          const t = ts[i] as number;
          const sessionId = sessionIds[i] as string;
          const type = types[i] as string;
          const json = data[i] as string;
          const hash = eventHash(++seq, t, sessionId, type, json, prev);
          insert.run(seq, t, sessionId, type, json, prev, hash);
          hashes += hash;
          prev = hash;
        }
      }
      let indexedUpto = this.#indexedUpto;
      if (seq - indexedUpto >= INDEX_LAG) {
        index(indexedUpto, seq);
        indexedUpto = seq;
      }
      if (this.#fault.kind === 'slow') sleep(this.#fault.ms);
      this.#attempted = { seq, hash: prev, indexedUpto };
      return hashes;
    });
    this.#writeBatch = (first) => {
      if (this.#faultsUsed) this.#applyFault(db);
      return tx.immediate(first);
    };
    this.#indexTail = db
      .transaction(() => {
        index(this.#indexedUpto, this.#headSeq);
        this.#indexedUpto = this.#headSeq;
      })
      .immediate.bind(null);
  }

  #work(): void {
    this.#scheduled = undefined;
    for (;;) {
      const entry = this.#queue[0];
      if (entry === undefined) return;
      if (entry.kind === 'fault') {
        this.#queue.shift();
        this.#fault = entry.fault;
        this.#faultsUsed = true;
      } else if (entry.kind === 'close') {
        this.#queue.length = 0;
        this.#closing = true;
        void this.#close();
        return;
      } else {
        break;
      }
    }
    this.#commitNext();
    // One batch per turn: anchor writes and new messages get their turn in between.
    if (this.#queue.length > 0) this.#scheduled = setImmediate(() => this.#work());
  }

  /**
   * Takes up to `room` events from the front of the queue, pulling messages that have arrived
   * meanwhile when it is empty; stops at a control message, which applies after this batch.
   */
  #take(room: number): Slice | undefined {
    if (room <= 0) return undefined;
    for (;;) {
      const entry = this.#queue[0];
      if (entry === undefined) {
        const message = this.#pull();
        if (message === undefined) return undefined;
        this.#enqueue(message);
        continue;
      }
      if (entry.kind !== 'events') return undefined;
      const from = entry.pos;
      const to = Math.min(entry.events.ts.length, from + room);
      entry.pos = to;
      if (to === entry.events.ts.length) this.#queue.shift();
      this.#taken += to - from;
      return { events: entry.events, from, to };
    }
  }

  /** Commits up to maxBatch events from the front of the queue. */
  #commitNext(): void {
    if (this.#fault.kind === 'crash-before-commit') throw new Error('simulated writer crash before a commit');
    this.#taken = 0;
    const first = this.#take(this.#config.maxBatch);
    if (first === undefined) return;
    let firstSeq: number;
    let prevHash: string;
    let hashes: string;
    try {
      if (this.#mustResync) this.#resync();
      firstSeq = this.#headSeq + 1;
      prevHash = this.#headHash;
      hashes = (this.#writeBatch as (first: Slice) => string)(first);
    } catch (err) {
      this.#mustResync = true;
      const error = toWire(asLogError(this.#config.path, err));
      this.#post({ kind: 'failed', count: this.#taken, error });
      return;
    }
    if (this.#fault.kind === 'crash-after-commit') throw new Error('simulated writer crash after a commit');
    const count = this.#taken;
    const attempted = this.#attempted as Attempt;
    this.#headSeq = attempted.seq;
    this.#headHash = attempted.hash;
    this.#indexedUpto = attempted.indexedUpto;
    this.#post({ kind: 'committed', count, firstSeq, prevHash, hashes });
    this.#anchor?.update(attempted.seq, attempted.hash);
  }

  /**
   * After a failed commit the database is the truth. Its head must be ours (the batch rolled back)
   * or the failed batch's last event (the commit reached the disk after all). Anything else means
   * another process wrote to the log, and chaining on top would vouch for events nobody saw.
   */
  #resync(): void {
    const db = this.#db as Database.Database;
    const head = readHead(db);
    const attempted = this.#attempted;
    if (attempted !== undefined && head.seq === attempted.seq && head.hash === attempted.hash) {
      this.#headSeq = attempted.seq;
      this.#headHash = attempted.hash;
      this.#indexedUpto = readIndexedUpto(db);
      this.#anchor?.update(attempted.seq, attempted.hash);
    } else if (head.seq !== this.#headSeq || head.hash !== this.#headHash) {
      throw new LogWriteError(
        `session log unavailable: it was changed by another process (expected event ${this.#headSeq}, found ${head.seq}) (${this.#config.path})`,
        { details: { path: this.#config.path } },
      );
    }
    this.#mustResync = false;
  }

  #applyFault(db: Database.Database): void {
    const fault = this.#fault.kind;
    db.pragma(
      `max_page_count = ${fault === 'full' ? db.pragma('page_count', { simple: true }) : MAX_PAGE_COUNT}`,
    );
    db.pragma(`query_only = ${fault === 'readonly' ? 1 : 0}`);
    if (fault === 'ioerr') throw Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_WRITE' });
  }

  async #close(): Promise<void> {
    if (this.#scheduled !== undefined) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    const db = this.#db as Database.Database;
    try {
      // Leaves no unindexed tail for readers to scan.
      if (!this.#mustResync && this.#headSeq > this.#indexedUpto) this.#indexTail?.();
    } catch (err) {
      this.#post({ kind: 'problem', error: toWire(unavailable(this.#config.path, err)) });
    }
    const anchor = this.#anchor as AnchorWriter;
    // A failed anchor write is otherwise only retried by the next commit, which will not come.
    if (this.#anchorFailed) anchor.update(this.#headSeq, this.#headHash);
    await anchor.idle();
    try {
      db.close();
    } catch (err) {
      this.#post({ kind: 'problem', error: toWire(unavailable(this.#config.path, err)) });
    }
    this.#post({ kind: 'closed' });
    this.#onClosed();
  }

  #anchorFinished(err: unknown, idle: boolean): void {
    this.#anchorFailed = err !== undefined;
    if (err === undefined) {
      this.#post({ kind: 'anchor', error: undefined, idle });
      return;
    }
    const cause = unavailable(this.#config.anchorPath, err).message;
    const error = new LogWriteError(
      `anchor not updated, so removing the newest events would go unnoticed: ${cause}`,
      { cause: err },
    );
    this.#post({ kind: 'anchor', error: toWire(error), idle });
  }
}

function asLogError(path: string, err: unknown): LogWriteError {
  return err instanceof LogWriteError ? err : unavailable(path, err);
}

/** Blocks this thread, as a slow fsync would. */
function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
