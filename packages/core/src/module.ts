import type { Socket } from 'node:net';
import type { Clock } from './clock.js';
import type { Command, Decision, ProtocolName } from './command.js';
import type { GatewayError } from './errors.js';
import type { Identity, TokenVerifier } from './identity.js';
import type { Logger } from './logger.js';
import type { ApprovalBroker, Masker, PolicyEngine } from './policy.js';
import type { EndReason, SessionInfo } from './session.js';
import type { SessionLogWriter } from './session-log.js';

/** What a module knows of the connection it serves, from the config file. */
export interface ConnectionSettings {
  readonly name: string;
  readonly protocol: ProtocolName;
  /** Host and port the gateway listens on for this connection. */
  readonly listen: { readonly host: string; readonly port: number };
  /** Protocol-specific upstream settings, secrets already resolved. */
  readonly upstream: Readonly<Record<string, unknown>>;
  /** Protocol-specific options (TLS, timeouts…). */
  readonly options: Readonly<Record<string, unknown>>;
}

export type OutputStream = 'stdin' | 'stdout' | 'stderr' | 'resize';

export interface CommandTicket {
  /** Sequence number of the command event in the session log. */
  readonly seq: number;
  readonly command: Command;
  readonly decision: Decision;
  readonly startedAt: number;
}

export interface CommandResult {
  readonly status: 'ok' | 'error';
  /** Short summary, e.g. a PostgreSQL command tag or an exit status. */
  readonly summary?: string;
  readonly rows?: number;
  readonly bytes?: number;
  readonly error?: { readonly code: string; readonly message: string };
  readonly data?: Readonly<Record<string, unknown>>;
}

/**
 * The session the gateway opened around one client connection. Modules go through it for every
 * decision that must be audited, so that no module can forget to log or to ask policy.
 */
export interface GatewaySession {
  readonly info: SessionInfo;
  readonly identity: Identity | undefined;
  /**
   * Verifies the token, checks that the identity may use this connection and logs the outcome
   * (the token itself is never logged). Rejects with an AuthError.
   */
  authenticate(token: string, details: { method: string; user?: string }): Promise<Identity>;
  /**
   * Accepts an identity proven by a credential the gateway itself verified (an SSH key bound to a
   * subject in the config): checks that it may use this connection and logs the outcome with the
   * key's fingerprint. Rejects with an AuthError.
   */
  authenticateKey(
    key: { readonly subject: string; readonly groups: readonly string[]; readonly fingerprint: string },
    details: { readonly method: string; readonly user?: string },
  ): Promise<Identity>;
  /** Logs a failed login that never reached token verification (unknown key, refused login name). */
  authFailed(details: {
    readonly method: string;
    readonly user?: string;
    readonly reason: string;
    readonly fingerprint?: string;
  }): Promise<void>;
  /** Records facts about the session learned after it started (database, TLS, upstream user…). */
  annotate(data: Readonly<Record<string, unknown>>, secrets?: readonly string[]): Promise<void>;
  /**
   * Judges a command and records it. Resolves once the command and its decision are committed to
   * the log and, for a review, once it is approved. Rejects with a PolicyDeniedError (deny,
   * approval denied or expired) or a LogWriteError (strict log unavailable). A review held when
   * `signal` aborts (client gone) or the gateway shuts down is cancelled and rejects.
   */
  execute(command: Command, secrets?: readonly string[], signal?: AbortSignal): Promise<CommandTicket>;
  /** Records the outcome of an executed command. Never throws; log failures are reported. */
  result(ticket: CommandTicket, result: CommandResult): void;
  /**
   * Records terminal or stream bytes (what the client typed and what it was shown) as `output`
   * events, batched; never blocks and never throws. `gatehouse replay` plays them back.
   */
  output(stream: OutputStream, data: Buffer | string): void;
  /** The masker for this session's identity and connection. */
  masker(): Masker;
  /** Ends the session with a reason; idempotent. */
  end(reason: EndReason, detail?: string): Promise<void>;
}

export interface ConnectionContext {
  readonly connection: ConnectionSettings;
  readonly session: GatewaySession;
  readonly verifier: TokenVerifier;
  readonly policy: PolicyEngine;
  readonly log: SessionLogWriter;
  readonly approvals: ApprovalBroker;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Directory for generated keys and certificates. */
  readonly dataDir: string;
}

/**
 * A protocol module owns one client connection from first byte to close. The gateway owns the
 * listener, opens the session before calling `handleConnection` and ends it afterwards if the
 * module did not.
 */
export interface ProtocolModule {
  readonly name: ProtocolName;
  handleConnection(socket: Socket, ctx: ConnectionContext, signal: AbortSignal): Promise<void>;
  /**
   * Checks a connection's protocol-specific settings (options, upstream) when the gateway starts,
   * so a mistake fails the start with a ConfigError instead of the first client. Optional.
   */
  checkConnection?(settings: ConnectionSettings): void;
  /** Refuses a connection before it is handed over (draining, limits), in the protocol's own form. */
  rejectConnection(socket: Socket, error: GatewayError): Promise<void>;
}
