/** Event types in the session log. `session.start` and `session.end` bracket every session. */
export const EventType = {
  SessionStart: 'session.start',
  SessionEnd: 'session.end',
  Auth: 'auth',
  Command: 'command',
  Decision: 'decision',
  Result: 'result',
  Approval: 'approval',
  Output: 'output',
  Note: 'note',
} as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

export interface EventInput {
  readonly sessionId: string;
  readonly type: EventType;
  /** JSON-serialisable payload. */
  readonly data: Readonly<Record<string, unknown>>;
  /**
   * Secret values (tokens, passwords) the caller knows may appear in `data`. Every occurrence in any
   * string of `data` is replaced with `[REDACTED]` before the event is hashed or stored.
   */
  readonly secrets?: readonly string[];
  /**
   * Nothing waits for this event before acting (a result, an output chunk, a note): the log may
   * hold it for a few milliseconds so that it is committed with the next event something does wait
   * for, instead of costing a commit of its own. Its promise still resolves only once it is
   * committed, and the order of events is unchanged.
   */
  readonly defer?: boolean;
}

export interface StoredEvent {
  readonly seq: number;
  /** Milliseconds since the epoch. */
  readonly ts: number;
  readonly sessionId: string;
  readonly type: EventType;
  readonly data: Record<string, unknown>;
  readonly prevHash: string;
  readonly hash: string;
}

export interface LogHealth {
  readonly ok: boolean;
  /** Why the log cannot be written, when it cannot. */
  readonly error?: string | undefined;
  /** Time of the last successful commit, ms since the epoch. */
  readonly lastCommitAt?: number | undefined;
}

/**
 * The write side of the session log, as protocol modules and the gateway see it. `append` resolves
 * once the event is durably committed (group commit may batch it with others) and rejects with a
 * LogWriteError when it cannot be: in strict mode the caller then refuses the command.
 */
export interface SessionLogWriter {
  readonly strict: boolean;
  append(event: EventInput): Promise<StoredEvent>;
  health(): LogHealth;
  /** Flushes what is queued and closes the store. */
  close(): Promise<void>;
}
