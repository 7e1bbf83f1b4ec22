import { LogWriteError } from '@gatehouse/core';

/**
 * Messages between the session log on the main thread and its writer thread. Everything here
 * crosses a structured clone, so it is plain data: no functions, no class instances.
 */

/** What the writer thread is started with. */
export interface WriterConfig {
  readonly path: string;
  readonly anchorPath: string;
  /** The anchor key, hex encoded. */
  readonly keyHex: string;
  readonly synchronous: 'full' | 'normal';
  readonly maxBatch: number;
  /** Least time between the starts of two anchor writes (see AnchorWriter). */
  readonly anchorIntervalMs: number;
  /** The newest event the main thread knows to be committed. */
  readonly expected: { readonly seq: number; readonly hash: string };
  /**
   * Events handed to an earlier writer whose outcome is unknown (it stopped, or their batch failed
   * but may have reached the disk), in order. The database may hold the first of them past `expected`.
   */
  readonly unconfirmed: EventColumns;
  readonly fault: WriterFault;
}

/**
 * Failures a test can make the writer thread suffer, as data because the hook has to run on the
 * other side of the thread boundary. `full` and `readonly` switch SQLite itself into the state a
 * full or read-only disk gives; `ioerr` throws what an I/O error throws; `slow` holds the writer
 * inside the transaction before it commits, like a slow fsync; the crashes throw an uncaught
 * exception in the writer thread before or after a batch commits.
 */
export type WriterFault =
  | { readonly kind: 'none' }
  | { readonly kind: 'full' }
  | { readonly kind: 'readonly' }
  | { readonly kind: 'ioerr' }
  | { readonly kind: 'slow'; readonly ms: number }
  | { readonly kind: 'crash-before-commit' }
  | { readonly kind: 'crash-after-commit' };

export const NO_FAULT: WriterFault = { kind: 'none' };

/** Events in columns: fewer objects to clone than one per event. */
export interface EventColumns {
  readonly ts: number[];
  readonly sessionIds: string[];
  readonly types: string[];
  /** Canonical JSON, exactly what is hashed and stored. */
  readonly data: string[];
}

export type ToWriter =
  | ({ readonly kind: 'events' } & EventColumns)
  | { readonly kind: 'fault'; readonly fault: WriterFault }
  /** Commit what came before, index the tail, write the last anchor, close the database, exit. */
  | { readonly kind: 'close' };

export type FromWriter =
  /** The database is open and its head is `head`; batches follow in order. */
  | { readonly kind: 'ready'; readonly head: { readonly seq: number; readonly hash: string } }
  /** The next `count` events handed over are committed as `firstSeq`…, `hashes` holding 64 hex digits each. */
  | {
      readonly kind: 'committed';
      readonly count: number;
      readonly firstSeq: number;
      readonly prevHash: string;
      readonly hashes: string;
    }
  /** The next `count` events handed over could not be committed. */
  | { readonly kind: 'failed'; readonly count: number; readonly error: WireError }
  /** An anchor write finished; `idle` when no newer head waits to be anchored. */
  | { readonly kind: 'anchor'; readonly error: WireError | undefined; readonly idle: boolean }
  /** A failure that is reported but fails no event (indexing the tail at close). */
  | { readonly kind: 'problem'; readonly error: WireError }
  /** The writer cannot work at all (opening failed); it exits next. */
  | { readonly kind: 'fatal'; readonly error: WireError }
  /** Everything handed over is settled and the database is closed; the thread exits next. */
  | { readonly kind: 'closed' };

/** A LogWriteError flattened for the trip between threads. */
export interface WireError {
  readonly message: string;
  readonly details: Readonly<Record<string, unknown>>;
  readonly cause?: { readonly name: string; readonly message: string; readonly code?: string };
}

export function toWire(err: LogWriteError): WireError {
  const cause = err.cause;
  const code = (cause as { code?: unknown } | null)?.code;
  return {
    message: err.message,
    details: plainDetails(err.details),
    ...(cause instanceof Error
      ? { cause: { name: cause.name, message: cause.message, ...(typeof code === 'string' ? { code } : {}) } }
      : {}),
  };
}

export function fromWire(wire: WireError): LogWriteError {
  const cause =
    wire.cause === undefined
      ? undefined
      : Object.assign(new Error(wire.cause.message), {
          name: wire.cause.name,
          ...(wire.cause.code === undefined ? {} : { code: wire.cause.code }),
        });
  return new LogWriteError(wire.message, {
    details: wire.details,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Details are strings and numbers in practice; anything else is dropped rather than failing the clone. */
function plainDetails(details: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(details)) {
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) out[key] = value;
  }
  return out;
}
