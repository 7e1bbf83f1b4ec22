import {
  type EventInput,
  type LogHealth,
  LogWriteError,
  type SessionLogWriter,
  type StoredEvent,
} from '@gatehouse/core';

export interface FailingSessionLogOptions {
  readonly strict?: boolean;
  /** Cause named in the error, e.g. `disk full`. */
  readonly reason?: string;
}

/** A session log that can never write, for testing that strict callers refuse commands. */
export class FailingSessionLog implements SessionLogWriter {
  readonly strict: boolean;
  readonly #message: string;
  #attempts = 0;

  constructor(options: FailingSessionLogOptions = {}) {
    this.strict = options.strict ?? true;
    this.#message = `session log unavailable: ${options.reason ?? 'simulated failure'} (test double)`;
  }

  /** How many appends were tried. */
  get attempts(): number {
    return this.#attempts;
  }

  append(_event: EventInput): Promise<StoredEvent> {
    this.#attempts++;
    return Promise.reject(new LogWriteError(this.#message));
  }

  health(): LogHealth {
    return { ok: false, error: this.#message };
  }

  async close(): Promise<void> {}
}
