import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  type Clock,
  type EndReason,
  LogWriteError,
  type SessionLogWriter,
  systemClock,
} from '@gatehouse/core';
import type Database from 'better-sqlite3';
import { anchorPathFor, defaultKeyPathFor, loadOrCreateKey, writeAnchor } from './anchor.js';
import type { RedactHook } from './chain.js';
import { NO_FAULT, type WriterFault } from './chain-writer.js';
import { openWalConnection } from './connection.js';
import { checkAgainstAnchor } from './head.js';
import { unavailable } from './log-errors.js';
import type { SessionLogReader } from './reader.js';
import { applySchema } from './schema.js';
import { SqliteSessionLog } from './sqlite-session-log.js';

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
  /**
   * Least time between two anchor writes, in milliseconds (default 20): the anchor trails the head
   * by at most about this much, and costs at most 1000 / this many file replacements a second.
   */
  readonly anchorIntervalMs?: number;
  /** File holding the key that signs the anchor; `<path>.key` by default. Keep it out of reach of whoever can write the log. */
  readonly anchorKeyFile?: string;
  readonly clock?: Clock;
  /** Rewrites every event's data before secrets are removed and the event is hashed. */
  readonly redact?: RedactHook;
  /**
   * Told about every failed batch, every failed sync, every anchor that could not be written and
   * every failed checkpoint.
   */
  readonly onError?: (err: LogWriteError) => void;
}

/** The SQLite session log as the gateway holds it. */
export interface SessionLog extends SessionLogWriter {
  readonly path: string;
  /** Ends, with `reason`, every session that has a `session.start` but no `session.end`. Call before accepting connections. */
  recoverOpenSessions(reason?: EndReason): Promise<number>;
  /** A reader on the log's own read connection; it sees every event whose `append` resolved. Closing the log closes it. */
  reader(): SessionLogReader;
}

/** Hooks for tests to make batches fail the way a real disk does. Not part of the public API. */
export interface SessionLogFaults {
  /** The fault the log starts with. */
  readonly fault?: WriterFault;
  /** Told the size of every transaction tried, committed or not. */
  readonly onBatch?: (size: number) => void;
  /** Told how many events each flush (the sync that makes commits durable) covered. */
  readonly onFlush?: (size: number) => void;
  /** Told of every checkpoint: frames in the WAL, frames copied into the database file. */
  readonly onCheckpoint?: (frames: number, copied: number) => void;
  /** When a checkpoint is asked for: WAL size in bytes, looked at every `everyCommits` commits. */
  readonly checkpoint?: { readonly walBytes: number; readonly everyCommits: number };
}

/** A session log that can be made to fail on purpose. */
export interface FaultySessionLog extends SessionLog {
  /** The log suffers `fault` from the batch holding the next append on. */
  injectFault(fault: WriterFault): void;
  /** Checkpoints now, whatever the WAL's size. */
  checkpointNow(): void;
}

export type { WriterFault } from './chain-writer.js';

const DEFAULT_ANCHOR_INTERVAL_MS = 20;
/** A WAL larger than this is checkpointed; readers pay for every frame they must look through. */
const CHECKPOINT_WAL_BYTES = 4 * 1024 * 1024;
const CHECKPOINT_CHECK_COMMITS = 64;

/**
 * Opens (creating when missing) the log and checks it against its anchor, synchronously, so a
 * damaged log stops the gateway before it starts; then opens the write connection and starts the
 * checkpointer thread.
 */
export function openSessionLog(options: SessionLogOptions): SessionLog {
  return openSessionLogWithFaults(options, {});
}

export function openSessionLogWithFaults(
  options: SessionLogOptions,
  faults: SessionLogFaults,
): FaultySessionLog {
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  if (!Number.isSafeInteger(maxBatch) || maxBatch < 1) {
    throw new LogWriteError(
      `session log maxBatch must be a positive integer, got ${String(options.maxBatch)}`,
    );
  }
  const anchorIntervalMs = options.anchorIntervalMs ?? DEFAULT_ANCHOR_INTERVAL_MS;
  if (!Number.isFinite(anchorIntervalMs) || anchorIntervalMs < 0) {
    throw new LogWriteError(
      `session log anchorIntervalMs must be a non-negative number, got ${String(options.anchorIntervalMs)}`,
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
    db = openWalConnection(path);
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
    // From here on this connection only reads; the log writes through a connection of its own.
    db.pragma('query_only = 1');
    return new SqliteSessionLog({
      db,
      path,
      anchorPath,
      key,
      synchronous,
      maxBatch,
      anchorIntervalMs,
      head: { seq: head.seq, hash: head.hash },
      checkpoint: faults.checkpoint ?? {
        walBytes: CHECKPOINT_WAL_BYTES,
        everyCommits: CHECKPOINT_CHECK_COMMITS,
      },
      fault: faults.fault ?? NO_FAULT,
      strict: options.strict ?? true,
      clock: options.clock ?? systemClock,
      redact: options.redact,
      onError: options.onError,
      onBatch: faults.onBatch,
      onFlush: faults.onFlush,
      onCheckpoint: faults.onCheckpoint,
    });
  } catch (err) {
    db?.close();
    if (err instanceof LogWriteError) throw err;
    throw unavailable(path, err);
  }
}

const DEFAULT_MAX_BATCH = 512;
