import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  type Clock,
  type EndReason,
  type EventInput,
  EventType,
  type LogHealth,
  LogWriteError,
  type SessionLogWriter,
  type StoredEvent,
  systemClock,
} from '@gatehouse/core';
import Database from 'better-sqlite3';
import { anchorPathFor, defaultKeyPathFor, loadOrCreateKey, writeAnchor } from './anchor.js';
import { AnchorWriter } from './anchor-writer.js';
import { chainEvent, type PreparedEvent, prepareEvent, type RedactHook } from './chain.js';
import { checkAgainstAnchor, type Head, readHead } from './head.js';
import { unavailable } from './log-errors.js';
import { type SessionLogReader, SqliteSessionLogReader } from './reader.js';
import { applySchema, INDEX_LAG, indexStatements, readIndexedUpto } from './schema.js';

export interface SessionLogOptions {
  /** SQLite database file; its directory is created when missing. */
  readonly path: string;
  /** Reported to callers: when true they must refuse a command whose event could not be committed. */
  readonly strict?: boolean;
  /**
   * `full` (default): a commit is on disk before `append` resolves; survives power loss.
   * `normal`: a commit survives a crash of the gateway process but the last commits may be lost
   * on power loss or a kernel crash — and `verify` then reports them as a truncated tail.
   */
  readonly synchronous?: 'full' | 'normal';
  /** Most events written in one transaction. */
  readonly maxBatch?: number;
  /** File holding the key that signs the anchor; `<path>.key` by default. Keep it out of reach of whoever can write the log. */
  readonly anchorKeyFile?: string;
  readonly clock?: Clock;
  /** Rewrites every event's data before secrets are removed and the event is hashed. */
  readonly redact?: RedactHook;
  /** Told about every failed batch and every anchor that could not be written. */
  readonly onError?: (err: LogWriteError) => void;
}

/** The SQLite session log as the gateway holds it. */
export interface SessionLog extends SessionLogWriter {
  readonly path: string;
  /** Ends, with `reason`, every session that has a `session.start` but no `session.end`. Call before accepting connections. */
  recoverOpenSessions(reason?: EndReason): Promise<number>;
  /** A reader on the writer's own connection; closing the log closes it. */
  reader(): SessionLogReader;
}

/** Hooks for tests to make a batch fail the way a real disk does. Not part of the public API. */
export interface SessionLogFaults {
  /** Runs before every batch is written; what it throws fails the batch. */
  readonly beforeBatch?: (db: Database.Database, size: number) => void;
}

interface Attempt {
  readonly seq: number;
  readonly hash: string;
  readonly indexedUpto: number;
}

interface Pending {
  readonly event: PreparedEvent;
  readonly resolve: (stored: StoredEvent) => void;
  readonly reject: (err: LogWriteError) => void;
}

const DEFAULT_MAX_BATCH = 512;
const BUSY_TIMEOUT_MS = 5000;
const WAL_AUTOCHECKPOINT_PAGES = 4000;
const JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024;
const INSERT_SQL =
  'INSERT INTO events (seq, ts, session_id, type, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)';

export function openSessionLog(options: SessionLogOptions): SessionLog {
  return openSessionLogWithFaults(options, {});
}

export function openSessionLogWithFaults(options: SessionLogOptions, faults: SessionLogFaults): SessionLog {
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  if (!Number.isSafeInteger(maxBatch) || maxBatch < 1) {
    throw new LogWriteError(
      `session log maxBatch must be a positive integer, got ${String(options.maxBatch)}`,
    );
  }
  const synchronous = options.synchronous ?? 'full';
  if (synchronous !== 'full' && synchronous !== 'normal') {
    throw new LogWriteError(`session log synchronous must be "full" or "normal", got ${String(synchronous)}`);
  }
  const path = resolve(options.path);
  const keyPath = resolve(options.anchorKeyFile ?? defaultKeyPathFor(path));
  let db: Database.Database | undefined;
  try {
    mkdirSync(dirname(path), { recursive: true });
    db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new Error(`cannot switch to WAL mode (got ${String(mode)})`);
    db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    // Fewer, larger checkpoints: pages rewritten by many commits are copied back once.
    db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT}`);
    applySchema(db);
    let key: Buffer;
    try {
      mkdirSync(dirname(keyPath), { recursive: true, mode: 0o700 });
      key = loadOrCreateKey(keyPath);
    } catch (err) {
      throw unavailable(keyPath, err, 'anchor key file');
    }
    const anchorPath = anchorPathFor(path);
    const head = checkAgainstAnchor(db, path, anchorPath, key);
    if (head.seq === 0 && head.anchored === false) {
      // A new log gets an anchor before its first event, so a log with events and no anchor
      // can only mean the anchor was removed.
      writeAnchor(anchorPath, key, 0, head.hash, synchronous === 'full');
    }
    return new SqliteSessionLog({
      db,
      path,
      anchorPath,
      key,
      head,
      maxBatch,
      durableAnchor: synchronous === 'full',
      strict: options.strict ?? true,
      clock: options.clock ?? systemClock,
      redact: options.redact,
      onError: options.onError,
      faults,
    });
  } catch (err) {
    db?.close();
    if (err instanceof LogWriteError) throw err;
    throw unavailable(path, err);
  }
}

interface LogParts {
  readonly db: Database.Database;
  readonly path: string;
  readonly anchorPath: string;
  readonly key: Buffer;
  readonly head: Head;
  readonly maxBatch: number;
  readonly durableAnchor: boolean;
  readonly strict: boolean;
  readonly clock: Clock;
  readonly redact: RedactHook | undefined;
  readonly onError: ((err: LogWriteError) => void) | undefined;
  readonly faults: SessionLogFaults;
}

class SqliteSessionLog implements SessionLog {
  readonly strict: boolean;
  readonly path: string;
  readonly #p: LogParts;
  readonly #writeBatch: (batch: readonly Pending[]) => StoredEvent[];
  readonly #indexTail: () => void;
  readonly #anchor: AnchorWriter;
  #headSeq: number;
  #headHash: string;
  #indexedUpto: number;
  /** Head after the newest batch tried; if its commit failed it may still have reached the disk. */
  #attempted: Attempt | undefined;
  #mustResync = false;
  #queue: Pending[] = [];
  #scheduled: NodeJS.Immediate | undefined;
  #closed: Promise<void> | undefined;
  #commitError: string | undefined;
  #anchorError: string | undefined;
  #lastCommitAt: number | undefined;
  #reader: SqliteSessionLogReader | undefined;

  constructor(parts: LogParts) {
    this.#p = parts;
    this.strict = parts.strict;
    this.path = parts.path;
    const { faults, db } = parts;
    this.#headSeq = parts.head.seq;
    this.#headHash = parts.head.hash;
    this.#indexedUpto = readIndexedUpto(db);
    this.#anchor = new AnchorWriter(parts.anchorPath, parts.key, parts.durableAnchor, (err) => {
      this.#anchorFinished(err);
    });
    const insert = db.prepare(INSERT_SQL);
    const index = indexStatements(db);
    const tx = db.transaction((batch: readonly Pending[]): StoredEvent[] => {
      const stored: StoredEvent[] = new Array(batch.length);
      let seq = this.#headSeq;
      let prev = this.#headHash;
      for (let i = 0; i < batch.length; i++) {
        const pending = batch[i] as Pending;
        const e = chainEvent(pending.event, ++seq, prev);
        insert.run(e.seq, e.ts, e.sessionId, e.type, pending.event.dataJson, e.prevHash, e.hash);
        stored[i] = e;
        prev = e.hash;
      }
      let indexedUpto = this.#indexedUpto;
      if (seq - indexedUpto >= INDEX_LAG) {
        index(indexedUpto, seq);
        indexedUpto = seq;
      }
      this.#attempted = { seq, hash: prev, indexedUpto };
      return stored;
    });
    this.#writeBatch = (batch) => {
      faults.beforeBatch?.(db, batch.length);
      return tx.immediate(batch);
    };
    this.#indexTail = db
      .transaction(() => {
        index(this.#indexedUpto, this.#headSeq);
        this.#indexedUpto = this.#headSeq;
      })
      .immediate.bind(null);
    if (this.#headSeq > this.#indexedUpto) this.#indexTail();
  }

  append(event: EventInput): Promise<StoredEvent> {
    if (this.#closed !== undefined) {
      return Promise.reject(new LogWriteError(`session log is closed (${this.path})`));
    }
    let prepared: PreparedEvent;
    try {
      prepared = prepareEvent(event, this.#p.clock.now().getTime(), this.#p.redact);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<StoredEvent>((resolve, reject) => {
      this.#queue.push({ event: prepared, resolve, reject });
      // setImmediate rather than a microtask: appends triggered by I/O in the same loop turn (many
      // sockets' data) join the batch.
      this.#scheduled ??= setImmediate(() => this.#flush());
    });
  }

  health(): LogHealth {
    const error = this.#commitError ?? this.#anchorError;
    return error === undefined
      ? { ok: true, lastCommitAt: this.#lastCommitAt }
      : { ok: false, error, lastCommitAt: this.#lastCommitAt };
  }

  async recoverOpenSessions(reason: EndReason = 'gateway-restart'): Promise<number> {
    const ids = this.#p.db
      .prepare(`SELECT id FROM sessions WHERE ended_at IS NULL GROUP BY id ORDER BY min(start_seq)`)
      .pluck()
      .all() as string[];
    await Promise.all(
      ids.map((sessionId) => this.append({ sessionId, type: EventType.SessionEnd, data: { reason } })),
    );
    return ids.length;
  }

  reader(): SessionLogReader {
    this.#reader ??= new SqliteSessionLogReader(this.#p.db, false);
    return this.#reader;
  }

  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    if (this.#scheduled !== undefined) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    while (this.#queue.length > 0) this.#flush();
    try {
      // Leaves no unindexed tail for readers to scan.
      if (!this.#mustResync && this.#headSeq > this.#indexedUpto) this.#indexTail();
    } catch (err) {
      this.#report(unavailable(this.path, err));
    }
    // A failed anchor write is otherwise only retried by the next commit, which will not come.
    if (this.#anchorError !== undefined) this.#anchor.update(this.#headSeq, this.#headHash);
    await this.#anchor.idle();
    this.#p.db.close();
  }

  #flush(): void {
    this.#scheduled = undefined;
    let batch: Pending[];
    if (this.#queue.length <= this.#p.maxBatch) {
      batch = this.#queue;
      this.#queue = [];
    } else {
      batch = this.#queue.splice(0, this.#p.maxBatch);
      if (this.#closed === undefined) this.#scheduled = setImmediate(() => this.#flush());
    }
    if (batch.length === 0) return;

    let stored: StoredEvent[];
    try {
      if (this.#mustResync) this.#resync();
      stored = this.#writeBatch(batch);
    } catch (err) {
      this.#fail(batch, err);
      return;
    }
    const attempted = this.#attempted as Attempt;
    this.#headSeq = attempted.seq;
    this.#headHash = attempted.hash;
    this.#indexedUpto = attempted.indexedUpto;
    this.#commitError = undefined;
    this.#lastCommitAt = this.#p.clock.now().getTime();
    this.#anchor.update(attempted.seq, attempted.hash);
    for (let i = 0; i < batch.length; i++) (batch[i] as Pending).resolve(stored[i] as StoredEvent);
  }

  #fail(batch: readonly Pending[], err: unknown): void {
    const error = err instanceof LogWriteError ? err : unavailable(this.path, err);
    this.#mustResync = true;
    this.#commitError = error.message;
    for (const p of batch) p.reject(error);
    this.#report(error);
  }

  /**
   * After a failed commit the database is the truth. Its head must be ours (the batch rolled back)
   * or the failed batch's last event (the commit reached the disk after all). Anything else means
   * another process wrote to the log, and chaining on top would vouch for events nobody saw.
   */
  #resync(): void {
    const head = readHead(this.#p.db);
    const attempted = this.#attempted;
    if (attempted !== undefined && head.seq === attempted.seq && head.hash === attempted.hash) {
      this.#headSeq = attempted.seq;
      this.#headHash = attempted.hash;
      this.#indexedUpto = readIndexedUpto(this.#p.db);
      this.#anchor.update(attempted.seq, attempted.hash);
    } else if (head.seq !== this.#headSeq || head.hash !== this.#headHash) {
      throw new LogWriteError(
        `session log unavailable: it was changed by another process (expected event ${this.#headSeq}, found ${head.seq}) (${this.path})`,
      );
    }
    this.#mustResync = false;
  }

  #anchorFinished(err: unknown): void {
    if (err === undefined) {
      this.#anchorError = undefined;
      return;
    }
    const cause = unavailable(this.#p.anchorPath, err).message;
    this.#anchorError = `anchor not updated, so removing the newest events would go unnoticed: ${cause}`;
    this.#report(new LogWriteError(this.#anchorError, { cause: err }));
  }

  #report(err: LogWriteError): void {
    try {
      this.#p.onError?.(err);
    } catch {
      // A failing error callback must not take the log down with it.
    }
  }
}
