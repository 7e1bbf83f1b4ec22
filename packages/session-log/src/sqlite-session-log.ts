import { closeSync, fdatasync, fsync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  type Clock,
  type EndReason,
  type EventInput,
  EventType,
  type LogHealth,
  LogWriteError,
  type StoredEvent,
} from '@gatehouse/core';
import type Database from 'better-sqlite3';
import { AnchorWriter } from './anchor-writer.js';
import { type PreparedEvent, prepareEvent, type RedactHook } from './chain.js';
import { ChainWriter, type WriterFault } from './chain-writer.js';
import { Checkpointer } from './checkpointer.js';
import { describeCause, unavailable } from './log-errors.js';
import { type SessionLogReader, SqliteSessionLogReader } from './reader.js';
import type { FaultySessionLog } from './session-log.js';

export interface LogParts {
  /** The connection the log was opened and checked with; it only reads from now on. */
  readonly db: Database.Database;
  readonly path: string;
  readonly anchorPath: string;
  readonly key: Buffer;
  readonly synchronous: 'full' | 'normal';
  readonly maxBatch: number;
  readonly anchorIntervalMs: number;
  /** The head the log was checked against when it was opened. */
  readonly head: { readonly seq: number; readonly hash: string };
  /** A checkpoint is asked for when the WAL, looked at every `everyCommits` commits, has `walBytes`. */
  readonly checkpoint: { readonly walBytes: number; readonly everyCommits: number };
  readonly fault: WriterFault;
  readonly strict: boolean;
  readonly clock: Clock;
  readonly redact: RedactHook | undefined;
  readonly onError: ((err: LogWriteError) => void) | undefined;
  readonly onBatch: ((size: number) => void) | undefined;
  readonly onFlush: ((size: number) => void) | undefined;
  readonly onCheckpoint: ((frames: number, copied: number) => void) | undefined;
}

interface Pending {
  readonly event: PreparedEvent;
  readonly resolve: (stored: StoredEvent) => void;
  readonly reject: (err: LogWriteError) => void;
}

interface Committed {
  readonly pending: Pending;
  readonly stored: StoredEvent;
}

/**
 * Longest a deferred event waits for an event that must be committed before something proceeds.
 * Short enough that a crash loses only results of the last moments (never a command), long enough
 * that a client's next statement after a result usually arrives first.
 */
const DEFER_MS = 5;
/** A WAL this many times the checkpoint size is checkpointed on the event loop (see #checkWal). */
const WAL_CAP_FACTOR = 16;

/**
 * The session log as the gateway writes it. `append` validates, redacts and canonicalises the event
 * right away (so a bad event is refused at once), and queues it; at the end of the event-loop turn
 * everything queued is chained and committed in one transaction on this thread (ChainWriter: a
 * WAL append with no fsync, tens of microseconds). With `synchronous: 'normal'` the appends resolve
 * then. With `'full'` the commit must also survive power loss: the WAL file is synced with
 * `fdatasync` on libuv's thread pool, one sync at a time, and every commit made while one runs is
 * made durable by the next — group commit, with the event loop free while the disk works. The
 * anchor follows the durable head; checkpoints run in a thread of their own.
 */
export class SqliteSessionLog implements FaultySessionLog {
  readonly strict: boolean;
  readonly path: string;
  readonly #p: LogParts;
  readonly #writer: ChainWriter;
  readonly #anchor: AnchorWriter;
  readonly #checkpointer: Checkpointer;
  /** Not yet committed. */
  #queue: Pending[] = [];
  #scheduled: NodeJS.Immediate | undefined;
  /** Set while only deferred events are queued: commits them if nothing else comes first. */
  #deferTimer: NodeJS.Timeout | undefined;
  /** Committed, waiting for the flush that makes them durable. */
  #unflushed: Committed[] = [];
  #flushing = false;
  #flushed: (() => void)[] = [];
  #walFd: number | undefined;
  /** A failed sync: the kernel may have dropped the data, so nothing committed since can be vouched for. */
  #broken: LogWriteError | undefined;
  #anchoredSeq: number;
  #anchorFailed = false;
  #commitError: string | undefined;
  #anchorError: string | undefined;
  #checkpointError: string | undefined;
  #lastCommitAt: number | undefined;
  #commitsSinceWalCheck = 0;
  /** Set when close() is called, before anything it does. */
  #closing = false;
  #closed: Promise<void> | undefined;
  #reader: SqliteSessionLogReader | undefined;

  constructor(parts: LogParts) {
    this.#p = parts;
    this.strict = parts.strict;
    this.path = parts.path;
    this.#anchoredSeq = parts.head.seq;
    this.#writer = new ChainWriter(parts.path, parts.head, parts.checkpoint.walBytes);
    if (parts.fault.kind !== 'none') this.#writer.injectFault(parts.fault);
    this.#anchor = new AnchorWriter(
      parts.anchorPath,
      parts.key,
      parts.synchronous === 'full',
      (err) => this.#anchorFinished(err),
      parts.anchorIntervalMs,
    );
    this.#checkpointer = new Checkpointer(
      parts.path,
      (err) => {
        this.#checkpointError = err.message;
        this.#report(err);
      },
      (frames, copied) => {
        this.#checkpointError = undefined;
        parts.onCheckpoint?.(frames, copied);
      },
    );
  }

  append(event: EventInput): Promise<StoredEvent> {
    if (this.#closing) {
      return Promise.reject(new LogWriteError(`session log is closed (${this.path})`));
    }
    let prepared: PreparedEvent;
    try {
      prepared = prepareEvent(event, this.#p.clock.now().getTime(), this.#p.redact);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.#broken !== undefined) return Promise.reject(this.#broken);
    return new Promise<StoredEvent>((resolve, reject) => {
      this.#queue.push({ event: prepared, resolve, reject });
      if (event.defer === true) {
        // Rides along with the next event that is waited for, or goes alone after DEFER_MS.
        if (this.#scheduled === undefined && this.#deferTimer === undefined) {
          this.#deferTimer = setTimeout(() => this.#commitQueued(), DEFER_MS);
        }
      } else {
        // setImmediate rather than a microtask: appends triggered by I/O in the same loop turn (many
        // sockets' data) join the transaction.
        this.#scheduled ??= setImmediate(() => this.#commitQueued());
      }
    });
  }

  health(): LogHealth {
    const error = this.#broken?.message ?? this.#commitError ?? this.#anchorError ?? this.#checkpointError;
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

  injectFault(fault: WriterFault): void {
    // Whatever is queued was appended before the fault: it goes first.
    this.#commitQueued();
    this.#writer.injectFault(fault);
  }

  /** Checkpoints now, whatever the WAL's size (tests). */
  checkpointNow(): void {
    this.#checkpointer.request();
  }

  close(): Promise<void> {
    this.#closing = true;
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#commitQueued();
    while (this.#flushing || this.#unflushed.length > 0) {
      await new Promise<void>((resolve) => this.#flushed.push(resolve));
    }
    const head = this.#writer.head;
    // A failed anchor write is otherwise only retried by the next commit, which will not come.
    if (this.#broken === undefined && (head.seq !== this.#anchoredSeq || this.#anchorFailed)) {
      this.#anchor.update(head.seq, head.hash);
    }
    await this.#anchor.idle();
    if (this.#walFd !== undefined) closeSync(this.#walFd);
    this.#walFd = undefined;
    await this.#checkpointer.close();
    try {
      this.#p.db.close();
    } catch (err) {
      this.#report(
        new LogWriteError(`session log: closing the read connection failed: ${describeCause(err)}`),
      );
    }
    // Last: closing the last connection checkpoints the WAL into the database file and removes it.
    const problem = this.#writer.close();
    if (problem !== undefined) this.#report(problem);
  }

  /** Commits everything queued, in transactions of at most maxBatch events. */
  #commitQueued(): void {
    if (this.#scheduled !== undefined) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    if (this.#deferTimer !== undefined) clearTimeout(this.#deferTimer);
    this.#deferTimer = undefined;
    const queue = this.#queue;
    if (queue.length === 0) return;
    this.#queue = [];
    const events: PreparedEvent[] = new Array(queue.length);
    for (let i = 0; i < queue.length; i++) events[i] = (queue[i] as Pending).event;
    const { maxBatch } = this.#p;
    for (let from = 0; from < events.length; from += maxBatch) {
      const to = Math.min(events.length, from + maxBatch);
      this.#commit(queue, events, from, to);
    }
  }

  #commit(queue: readonly Pending[], events: readonly PreparedEvent[], from: number, to: number): void {
    if (this.#broken !== undefined) {
      for (let i = from; i < to; i++) (queue[i] as Pending).reject(this.#broken);
      return;
    }
    let batch: ReturnType<ChainWriter['commit']>;
    try {
      batch = this.#writer.commit(events, from, to);
    } catch (err) {
      const error = err instanceof LogWriteError ? err : unavailable(this.path, err);
      this.#commitError = error.message;
      this.#p.onBatch?.(to - from);
      this.#report(error);
      for (let i = from; i < to; i++) (queue[i] as Pending).reject(error);
      return;
    }
    this.#commitError = undefined;
    this.#p.onBatch?.(to - from);
    if (++this.#commitsSinceWalCheck >= this.#p.checkpoint.everyCommits) this.#checkWal();
    const committed: Committed[] = new Array(to - from);
    let prev = batch.prevHash;
    for (let i = from; i < to; i++) {
      const e = events[i] as PreparedEvent;
      const hash = batch.hashes[i - from] as string;
      committed[i - from] = {
        pending: queue[i] as Pending,
        stored: {
          seq: batch.firstSeq + i - from,
          ts: e.ts,
          sessionId: e.sessionId,
          type: e.type,
          data: e.data,
          prevHash: prev,
          hash,
        },
      };
      prev = hash;
    }
    const fault = this.#writer.fault.kind;
    const mustFlush =
      this.#p.synchronous === 'full' ||
      fault === 'slow' ||
      fault === 'sync-error' ||
      this.#flushing ||
      this.#unflushed.length > 0;
    if (!mustFlush) {
      this.#durable(committed);
      return;
    }
    for (const c of committed) this.#unflushed.push(c);
    this.#flush();
  }

  /**
   * The WAL file is cut back to `walBytes` whenever it starts over, so a file past that size holds
   * at least that much written since: worth a checkpoint.
   */
  #checkWal(): void {
    this.#commitsSinceWalCheck = 0;
    let size: number;
    try {
      size = statSync(`${this.path}-wal`).size;
    } catch {
      return;
    }
    const { walBytes } = this.#p.checkpoint;
    if (size <= walBytes) return;
    if (size < walBytes * WAL_CAP_FACTOR) {
      this.#checkpointer.request();
      return;
    }
    // A checkpoint in another connection copies what was committed when it began, but the WAL
    // starts over only once every frame is copied, which commits that never pause prevent. This
    // one holds the loop for a moment (it copies what the thread has not yet) and bounds the WAL.
    try {
      this.#writer.checkpoint();
    } catch (err) {
      this.#checkpointError = unavailable(this.path, err, 'checkpoint').message;
    }
  }

  /** Syncs the WAL for everything committed so far; one sync at a time, the next one takes the rest. */
  #flush(): void {
    if (this.#flushing || this.#unflushed.length === 0) return;
    this.#flushing = true;
    const batch = this.#unflushed;
    this.#unflushed = [];
    const fault = this.#writer.fault;
    const delay = fault.kind === 'slow' ? fault.ms : 0;
    const done = (err: NodeJS.ErrnoException | null) => {
      const finish = () => {
        this.#flushing = false;
        if (err === null) {
          this.#p.onFlush?.(batch.length);
          this.#durable(batch);
        } else {
          this.#broken ??= new LogWriteError(
            `session log unavailable: the disk failed to sync it (${describeCause(err)}); committed events may be lost, restart the gateway once the disk is checked (${this.path})`,
            { cause: err, details: { path: this.path } },
          );
          this.#report(this.#broken);
          for (const c of [...batch, ...this.#unflushed]) c.pending.reject(this.#broken);
          this.#unflushed = [];
        }
        this.#flush();
        if (!this.#flushing) for (const resolve of this.#flushed.splice(0)) resolve();
      };
      if (delay > 0) setTimeout(finish, delay);
      else finish();
    };
    if (fault.kind === 'sync-error') {
      done(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    } else if (this.#p.synchronous === 'full') {
      this.#syncWal(done);
    } else {
      done(null);
    }
  }

  #syncWal(done: (err: NodeJS.ErrnoException | null) => void): void {
    if (this.#walFd === undefined) {
      let fd: number;
      let dir: number;
      try {
        fd = openSync(`${this.path}-wal`, 'r+');
        dir = openSync(dirname(this.path), 'r');
      } catch (err) {
        done(err as NodeJS.ErrnoException);
        return;
      }
      this.#walFd = fd;
      // Once: the WAL's directory entry must be on disk too, or a power cut could lose the file.
      fsync(dir, (err) => {
        closeSync(dir);
        if (err !== null) done(err);
        else fdatasync(fd, done);
      });
      return;
    }
    fdatasync(this.#walFd, done);
  }

  /** The events are as durable as the configuration asks: their appends resolve, the anchor follows. */
  #durable(committed: readonly Committed[]): void {
    const last = committed[committed.length - 1];
    if (last === undefined) return;
    this.#lastCommitAt = this.#p.clock.now().getTime();
    this.#anchoredSeq = last.stored.seq;
    this.#anchor.update(last.stored.seq, last.stored.hash);
    for (const c of committed) c.pending.resolve(c.stored);
  }

  #anchorFinished(err: unknown): void {
    this.#anchorFailed = err !== undefined;
    if (err === undefined) {
      this.#anchorError = undefined;
      return;
    }
    const cause = unavailable(this.#p.anchorPath, err).message;
    const error = new LogWriteError(
      `anchor not updated, so removing the newest events would go unnoticed: ${cause}`,
      { cause: err },
    );
    this.#anchorError = error.message;
    this.#report(error);
  }

  #report(err: LogWriteError): void {
    try {
      this.#p.onError?.(err);
    } catch {
      // A failing error callback must not take the log down with it.
    }
  }
}
