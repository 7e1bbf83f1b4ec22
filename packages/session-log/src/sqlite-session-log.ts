import { Worker } from 'node:worker_threads';
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
import { type PreparedEvent, prepareEvent, type RedactHook } from './chain.js';
import { describeCause } from './log-errors.js';
import { type SessionLogReader, SqliteSessionLogReader } from './reader.js';
import type { FaultySessionLog } from './session-log.js';
import {
  type EventColumns,
  type FromWriter,
  fromWire,
  type WriterConfig,
  type WriterFault,
} from './writer-protocol.js';
import { writerScript } from './writer-script.js';

export interface LogParts {
  /** The connection the log was opened and checked with; it only reads from now on. */
  readonly db: Database.Database;
  readonly path: string;
  readonly writer: WriterConfig;
  readonly strict: boolean;
  readonly clock: Clock;
  readonly redact: RedactHook | undefined;
  readonly onError: ((err: LogWriteError) => void) | undefined;
  readonly onBatch: ((size: number) => void) | undefined;
}

interface Pending {
  readonly event: PreparedEvent;
  readonly resolve: (stored: StoredEvent) => void;
  readonly reject: (err: LogWriteError) => void;
}

/** One writer thread and what it told about itself. */
interface WriterThread {
  readonly worker: Worker;
  readonly exited: Promise<void>;
  closed: boolean;
  fatal: LogWriteError | undefined;
  error: unknown;
}

const RESTART_DELAY_MS = 100;
const MAX_RESTART_DELAY_MS = 5000;
const HASH_HEX = 64;
/** Events queued in one turn that are handed over without waiting for the end of the turn. */
const HANDOVER_CHUNK = 16;
/**
 * Longest a deferred event waits for an event that must be committed before something proceeds.
 * Short enough that a crash loses only results of the last moments (never a command), long enough
 * that a client's next statement after a result usually arrives first.
 */
const DEFER_MS = 5;

/**
 * The session log's main-thread half. `append` validates, redacts and canonicalises the event right
 * away (so a bad event is refused at once and the caller gets the stored data back), queues it, and
 * hands everything queued in one event-loop turn to the writer thread in one message. The writer
 * chains, inserts and commits (see writer.ts); its answer resolves or rejects the appends in order.
 * Nothing here blocks on the disk.
 */
export class SqliteSessionLog implements FaultySessionLog {
  readonly strict: boolean;
  readonly path: string;
  readonly #p: LogParts;
  #thread: WriterThread | undefined;
  /** False while the writer thread is down: appends are refused instead of waiting for it. */
  #accepting = true;
  #downError: LogWriteError | undefined;
  #restarts = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  /** Not yet handed to the writer. */
  #queue: Pending[] = [];
  #scheduled: NodeJS.Immediate | undefined;
  /** Set while only deferred events are queued: hands them over if nothing else comes first. */
  #deferTimer: NodeJS.Timeout | undefined;
  /** Handed to the writer, in order, not yet answered; answered ones before #inflightStart. */
  #inflight: Pending[] = [];
  #inflightStart = 0;
  /** The newest event known to be committed, and the events handed over since whose fate is unknown. */
  #confirmed: { seq: number; hash: string };
  #unconfirmed: PreparedEvent[] = [];
  /** The fault a restarted writer starts with (tests). */
  #fault: WriterFault;
  #anchorBusy = false;
  #referenced = true;
  #commitError: string | undefined;
  #anchorError: string | undefined;
  #lastCommitAt: number | undefined;
  /** Set when close() is called, before anything it does (#closed is only set once #close() returns). */
  #closing = false;
  #closed: Promise<void> | undefined;
  #reader: SqliteSessionLogReader | undefined;

  constructor(parts: LogParts) {
    this.#p = parts;
    this.strict = parts.strict;
    this.path = parts.path;
    this.#confirmed = { ...parts.writer.expected };
    this.#fault = parts.writer.fault;
    // Throws (and so fails the open) when the thread cannot even be created.
    this.#thread = this.#spawn();
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
    if (!this.#accepting) return Promise.reject(this.#downError);
    return new Promise<StoredEvent>((resolve, reject) => {
      this.#queue.push({ event: prepared, resolve, reject });
      if (event.defer === true && this.#queue.length < HANDOVER_CHUNK) {
        // Rides along with the next event that is waited for, or goes alone after DEFER_MS.
        if (this.#scheduled === undefined && this.#deferTimer === undefined) {
          this.#deferTimer = setTimeout(() => this.#handOver(), DEFER_MS);
        }
      } else if (this.#queue.length >= HANDOVER_CHUNK) {
        // The writer starts inserting while the rest of this turn's events are prepared; they join
        // its open transaction.
        this.#handOver();
      } else {
        // setImmediate rather than a microtask: appends triggered by I/O in the same loop turn (many
        // sockets' data) join the message.
        this.#scheduled ??= setImmediate(() => this.#handOver());
      }
    });
  }

  health(): LogHealth {
    const error = this.#downError?.message ?? this.#commitError ?? this.#anchorError;
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
    this.#handOver();
    this.#thread?.worker.postMessage({ kind: 'fault', fault });
    if (fault.kind !== 'crash-before-commit' && fault.kind !== 'crash-after-commit') this.#fault = fault;
  }

  close(): Promise<void> {
    this.#closing = true;
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#handOver();
    if (this.#restartTimer !== undefined) clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    // This connection first: the writer's, closing last, then checkpoints the WAL into the database
    // file and removes it.
    try {
      this.#p.db.close();
    } catch (err) {
      this.#report(
        new LogWriteError(`session log: closing the read connection failed: ${describeCause(err)}`),
      );
    }
    const thread = this.#thread;
    if (thread !== undefined) {
      thread.worker.postMessage({ kind: 'close' });
      this.#updateRef();
      // Once the writer closes its port, the Worker handle alone no longer keeps this thread's event
      // loop alive, and the 'exit' event could be lost with the process: hold the loop open until it
      // arrives.
      const keepAlive = setInterval(() => {}, 60_000);
      try {
        await thread.exited;
      } finally {
        clearInterval(keepAlive);
      }
    }
    // Only left when the writer stopped before answering.
    this.#rejectAll(new LogWriteError(`session log is closed (${this.path})`));
  }

  /** Posts everything queued to the writer in one message, in columns. */
  #handOver(): void {
    if (this.#scheduled !== undefined) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    if (this.#deferTimer !== undefined) clearTimeout(this.#deferTimer);
    this.#deferTimer = undefined;
    const queue = this.#queue;
    const thread = this.#thread;
    if (queue.length === 0 || thread === undefined) return;
    this.#queue = [];
    const events: PreparedEvent[] = new Array(queue.length);
    for (let i = 0; i < queue.length; i++) {
      const pending = queue[i] as Pending;
      events[i] = pending.event;
      this.#inflight.push(pending);
    }
    thread.worker.postMessage({ kind: 'events', ...columns(events) });
    this.#updateRef();
  }

  #spawn(): WriterThread {
    const config: WriterConfig = {
      ...this.#p.writer,
      expected: { ...this.#confirmed },
      unconfirmed: columns(this.#unconfirmed),
      fault: this.#fault,
    };
    const script = writerScript();
    const worker = new Worker(script.url, {
      workerData: config,
      name: 'session-log-writer',
      execArgv: script.execArgv,
    });
    let exited!: () => void;
    const thread: WriterThread = {
      worker,
      exited: new Promise<void>((resolve) => {
        exited = resolve;
      }),
      closed: false,
      fatal: undefined,
      error: undefined,
    };
    worker.on('message', (message: FromWriter) => this.#onMessage(thread, message));
    worker.on('error', (err) => {
      thread.error = err;
    });
    worker.on('exit', (code) => {
      this.#onExit(thread, code);
      exited();
    });
    this.#referenced = true;
    this.#updateRef();
    return thread;
  }

  #onMessage(thread: WriterThread, message: FromWriter): void {
    switch (message.kind) {
      case 'ready':
        this.#confirmed = { ...message.head };
        this.#unconfirmed = [];
        this.#restarts = 0;
        this.#accepting = true;
        this.#downError = undefined;
        break;
      case 'committed':
        this.#committed(message.count, message.firstSeq, message.prevHash, message.hashes);
        break;
      case 'failed': {
        const error = fromWire(message.error);
        const batch = this.#takeInflight(message.count);
        for (const pending of batch) this.#unconfirmed.push(pending.event);
        for (const pending of batch) pending.reject(error);
        this.#commitError = error.message;
        this.#p.onBatch?.(message.count);
        this.#report(error);
        break;
      }
      case 'anchor':
        this.#anchorBusy = !message.idle;
        if (message.error === undefined) {
          this.#anchorError = undefined;
        } else {
          const error = fromWire(message.error);
          this.#anchorError = error.message;
          this.#report(error);
        }
        break;
      case 'problem':
        this.#report(fromWire(message.error));
        break;
      case 'fatal':
        thread.fatal = fromWire(message.error);
        break;
      case 'closed':
        thread.closed = true;
        this.#anchorBusy = false;
        break;
    }
    this.#updateRef();
  }

  #committed(count: number, firstSeq: number, prevHash: string, hashes: string): void {
    const batch = this.#takeInflight(count);
    const stored: StoredEvent[] = new Array(count);
    let prev = prevHash;
    for (let i = 0; i < count; i++) {
      const e = (batch[i] as Pending).event;
      const hash = hashes.slice(i * HASH_HEX, (i + 1) * HASH_HEX);
      stored[i] = {
        seq: firstSeq + i,
        ts: e.ts,
        sessionId: e.sessionId,
        type: e.type,
        data: e.data,
        prevHash: prev,
        hash,
      };
      prev = hash;
    }
    this.#confirmed = { seq: firstSeq + count - 1, hash: prev };
    this.#unconfirmed = [];
    this.#commitError = undefined;
    this.#lastCommitAt = this.#p.clock.now().getTime();
    this.#anchorBusy = true;
    this.#p.onBatch?.(count);
    for (let i = 0; i < count; i++) (batch[i] as Pending).resolve(stored[i] as StoredEvent);
  }

  #takeInflight(count: number): Pending[] {
    const start = this.#inflightStart;
    const taken = this.#inflight.slice(start, start + count);
    this.#inflightStart = start + count;
    if (this.#inflightStart === this.#inflight.length) {
      this.#inflight = [];
      this.#inflightStart = 0;
    } else if (this.#inflightStart > 1024 && this.#inflightStart * 2 > this.#inflight.length) {
      this.#inflight = this.#inflight.slice(this.#inflightStart);
      this.#inflightStart = 0;
    }
    return taken;
  }

  /**
   * A writer that exits without having closed cleanly has stopped: what it was given fails, since
   * it may or may not have been committed; appends are refused until a new writer, having checked
   * the database against what this thread knows, reports ready.
   */
  #onExit(thread: WriterThread, code: number): void {
    if (this.#thread === thread) this.#thread = undefined;
    if (thread.closed) return;
    const cause =
      thread.error === undefined ? `exit code ${code}` : `${describeCause(thread.error)}, exit code ${code}`;
    const error =
      thread.fatal ??
      new LogWriteError(`session log unavailable: the writer thread stopped (${cause}) (${this.path})`, {
        ...(thread.error === undefined ? {} : { cause: thread.error }),
        details: { path: this.path, exitCode: code },
      });
    for (let i = this.#inflightStart; i < this.#inflight.length; i++) {
      this.#unconfirmed.push((this.#inflight[i] as Pending).event);
    }
    this.#accepting = false;
    const repeated = this.#downError?.message === error.message;
    this.#downError = error;
    this.#rejectAll(error);
    this.#anchorBusy = false;
    if (this.#closing) return;
    if (!repeated) this.#report(error);
    this.#scheduleRestart();
  }

  #scheduleRestart(): void {
    const delay =
      this.#restarts === 0 ? 0 : Math.min(MAX_RESTART_DELAY_MS, RESTART_DELAY_MS * 2 ** (this.#restarts - 1));
    this.#restarts++;
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      if (this.#closing) return;
      try {
        this.#thread = this.#spawn();
      } catch (err) {
        this.#downError = new LogWriteError(
          `session log unavailable: cannot start the writer thread: ${describeCause(err)} (${this.path})`,
          { cause: err, details: { path: this.path } },
        );
        this.#scheduleRestart();
      }
    }, delay);
    // A writer that is down must not keep the process alive on its own.
    this.#restartTimer.unref();
  }

  #rejectAll(error: LogWriteError): void {
    const pending = [...this.#inflight.slice(this.#inflightStart), ...this.#queue];
    this.#inflight = [];
    this.#inflightStart = 0;
    this.#queue = [];
    if (this.#scheduled !== undefined) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    if (this.#deferTimer !== undefined) clearTimeout(this.#deferTimer);
    this.#deferTimer = undefined;
    for (const p of pending) p.reject(error);
  }

  /**
   * The writer thread keeps the process alive only while it has work the caller waits for (appends,
   * the anchor of the last commit, closing), as the synchronous writer's pending callbacks did.
   */
  #updateRef(): void {
    const worker = this.#thread?.worker;
    if (worker === undefined) return;
    const wanted =
      this.#inflight.length > this.#inflightStart ||
      this.#queue.length > 0 ||
      this.#anchorBusy ||
      this.#closing;
    if (wanted === this.#referenced) return;
    this.#referenced = wanted;
    if (wanted) worker.ref();
    else worker.unref();
  }

  #report(err: LogWriteError): void {
    try {
      this.#p.onError?.(err);
    } catch {
      // A failing error callback must not take the log down with it.
    }
  }
}

function columns(events: readonly PreparedEvent[]): EventColumns {
  const n = events.length;
  const ts: number[] = new Array(n);
  const sessionIds: string[] = new Array(n);
  const types: string[] = new Array(n);
  const data: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const e = events[i] as PreparedEvent;
    ts[i] = e.ts;
    sessionIds[i] = e.sessionId;
    types[i] = e.type;
    data[i] = e.dataJson;
  }
  return { ts, sessionIds, types, data };
}
