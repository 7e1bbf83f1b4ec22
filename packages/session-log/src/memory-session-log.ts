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
import { chainEvent, GENESIS_HASH, type PreparedEvent, prepareEvent, type RedactHook } from './chain.js';

export interface MemorySessionLogOptions {
  readonly strict?: boolean;
  readonly clock?: Clock;
  readonly redact?: RedactHook;
}

/**
 * An in-memory session log with the real one's semantics (validation, redaction, canonical data,
 * hash chain, asynchronous commit) for unit tests of the packages that write to the log.
 */
export class MemorySessionLog implements SessionLogWriter {
  readonly strict: boolean;
  readonly #clock: Clock;
  readonly #redact: RedactHook | undefined;
  readonly #events: StoredEvent[] = [];
  #unavailable: string | undefined;
  #closed = false;
  #lastCommitAt: number | undefined;

  constructor(options: MemorySessionLogOptions = {}) {
    this.strict = options.strict ?? true;
    this.#clock = options.clock ?? systemClock;
    this.#redact = options.redact;
  }

  /** Every committed event, in order. */
  get events(): readonly StoredEvent[] {
    return this.#events;
  }

  eventsOf(sessionId: string, type?: EventType): StoredEvent[] {
    return this.#events.filter((e) => e.sessionId === sessionId && (type === undefined || e.type === type));
  }

  /** Simulates an outage: appends reject until it is called again without a reason. */
  setUnavailable(reason: string | undefined): void {
    this.#unavailable = reason;
  }

  append(event: EventInput): Promise<StoredEvent> {
    let prepared: PreparedEvent;
    try {
      if (this.#closed) throw new LogWriteError('session log is closed (memory)');
      prepared = prepareEvent(event, this.#clock.now().getTime(), this.#redact);
    } catch (err) {
      return Promise.reject(err);
    }
    // Commit on a later tick like the real log, so callers cannot rely on synchronous effects.
    return new Promise((resolve, reject) => {
      setImmediate(() => {
        if (this.#unavailable !== undefined) {
          reject(new LogWriteError(`session log unavailable: ${this.#unavailable} (memory)`));
          return;
        }
        const last = this.#events[this.#events.length - 1];
        const stored = chainEvent(prepared, (last?.seq ?? 0) + 1, last?.hash ?? GENESIS_HASH);
        this.#events.push(stored);
        this.#lastCommitAt = this.#clock.now().getTime();
        resolve(stored);
      });
    });
  }

  health(): LogHealth {
    if (this.#unavailable !== undefined) {
      return {
        ok: false,
        error: `session log unavailable: ${this.#unavailable} (memory)`,
        lastCommitAt: this.#lastCommitAt,
      };
    }
    return { ok: true, lastCommitAt: this.#lastCommitAt };
  }

  async recoverOpenSessions(reason: EndReason = 'gateway-restart'): Promise<number> {
    const ended = new Set(
      this.#events.filter((e) => e.type === EventType.SessionEnd).map((e) => e.sessionId),
    );
    const open = [
      ...new Set(
        this.#events
          .filter((e) => e.type === EventType.SessionStart && !ended.has(e.sessionId))
          .map((e) => e.sessionId),
      ),
    ];
    await Promise.all(
      open.map((sessionId) => this.append({ sessionId, type: EventType.SessionEnd, data: { reason } })),
    );
    return open.length;
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}
