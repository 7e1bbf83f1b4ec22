import {
  type ApprovalBroker,
  AuthError,
  type Clock,
  type Command,
  type CommandResult,
  type CommandTicket,
  type ConnectionSettings,
  type EndReason,
  ErrorCode,
  type EventInput,
  EventType,
  type GatewaySession,
  type Identity,
  type Logger,
  LogWriteError,
  type Masker,
  type OutputStream,
  PolicyDeniedError,
  type PolicyEngine,
  type SessionInfo,
  type SessionLogWriter,
  type StoredEvent,
  type TokenVerifier,
} from '@gatehouse/core';
import { type AccessRule, canUseConnection } from './access.js';
import type { GatewayMetrics } from './metrics.js';

export interface SessionDeps {
  readonly info: SessionInfo;
  readonly connection: ConnectionSettings;
  readonly access: AccessRule | undefined;
  readonly verifier: TokenVerifier;
  readonly policy: PolicyEngine;
  readonly log: SessionLogWriter;
  readonly approvals: ApprovalBroker;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  /** Secrets known to the gateway (resolved config secrets); redacted from every event. */
  readonly secrets: readonly string[];
  /** Aborts when the gateway stops serving this connection; cancels held reviews. */
  readonly signal?: AbortSignal;
  /** Called once when the session ends. */
  readonly onEnd?: (session: Session) => void;
}

/**
 * The session the gateway opens around one client connection. Every auditable step goes through
 * it: authentication, each command's policy decision (committed before the command may proceed in
 * strict mode), results, and the end.
 */
export class Session implements GatewaySession {
  readonly info: SessionInfo;
  #identity: Identity | undefined;
  #ended: Promise<void> | undefined;
  #masker: Masker | undefined;
  #output: { stream: OutputStream; chunks: Buffer[]; size: number; t: number } | undefined;
  #outputTimer: NodeJS.Timeout | undefined;
  readonly #deps: SessionDeps;
  readonly #logger: Logger;

  constructor(deps: SessionDeps) {
    this.#deps = deps;
    this.info = deps.info;
    this.#logger = deps.logger.child({ session: deps.info.id });
  }

  get identity(): Identity | undefined {
    return this.#identity;
  }

  get ended(): boolean {
    return this.#ended !== undefined;
  }

  /** Writes `session.start`; the gateway calls it before handing the socket to a module. */
  async start(extra: Readonly<Record<string, unknown>> = {}): Promise<void> {
    const { info } = this;
    await this.#append(EventType.SessionStart, {
      connection: info.connection,
      protocol: info.protocol,
      clientAddress: info.clientAddress,
      ...extra,
    });
  }

  async authenticate(token: string, details: { method: string; user?: string }): Promise<Identity> {
    const { verifier, metrics, connection } = this.#deps;
    const base = { method: details.method, ...(details.user === undefined ? {} : { user: details.user }) };
    let identity: Identity;
    try {
      identity = await verifier.verify(token);
    } catch (err) {
      const error =
        err instanceof AuthError ? err : new AuthError('token verification failed', { cause: err });
      metrics.authTotal.inc({ connection: connection.name, outcome: 'failure' });
      await this.#append(EventType.Auth, { ...base, outcome: 'failure', reason: error.message }, [token]);
      throw error;
    }
    return this.#admit(identity, base, [token]);
  }

  async authenticateKey(
    key: { readonly subject: string; readonly groups: readonly string[]; readonly fingerprint: string },
    details: { readonly method: string; readonly user?: string },
  ): Promise<Identity> {
    const identity: Identity = {
      subject: key.subject,
      groups: [...key.groups],
      issuer: 'gatehouse:config-key',
    };
    return this.#admit(identity, {
      method: details.method,
      fingerprint: key.fingerprint,
      ...(details.user === undefined ? {} : { user: details.user }),
    });
  }

  async authFailed(details: {
    readonly method: string;
    readonly user?: string;
    readonly reason: string;
    readonly fingerprint?: string;
  }): Promise<void> {
    this.#deps.metrics.authTotal.inc({ connection: this.#deps.connection.name, outcome: 'failure' });
    await this.#append(EventType.Auth, { ...details, outcome: 'failure' });
  }

  /** Connection-level access for a proven identity, logged either way; on success it becomes the session's. */
  async #admit(
    identity: Identity,
    base: Readonly<Record<string, unknown>>,
    secrets: readonly string[] = [],
  ): Promise<Identity> {
    const { access, metrics, connection } = this.#deps;
    if (!canUseConnection(access, identity)) {
      metrics.authTotal.inc({ connection: connection.name, outcome: 'denied' });
      const error = new AuthError(
        `identity "${identity.subject}" is not allowed to use connection "${connection.name}"`,
        { code: ErrorCode.AccessDenied },
      );
      await this.#append(
        EventType.Auth,
        {
          ...base,
          outcome: 'failure',
          subject: identity.subject,
          groups: identity.groups,
          reason: error.message,
        },
        secrets,
      );
      throw error;
    }
    await this.#append(
      EventType.Auth,
      {
        ...base,
        outcome: 'success',
        subject: identity.subject,
        groups: identity.groups,
        issuer: identity.issuer,
        ...(identity.tokenId === undefined ? {} : { tokenId: identity.tokenId }),
        ...(identity.expiresAt === undefined ? {} : { expiresAt: identity.expiresAt.toISOString() }),
      },
      secrets,
    );
    metrics.authTotal.inc({ connection: connection.name, outcome: 'success' });
    this.#identity = identity;
    this.#masker = undefined;
    return identity;
  }

  async annotate(data: Readonly<Record<string, unknown>>, secrets: readonly string[] = []): Promise<void> {
    await this.#append(EventType.Note, data, secrets);
  }

  async execute(
    command: Command,
    secrets: readonly string[] = [],
    signal?: AbortSignal,
  ): Promise<CommandTicket> {
    const identity = this.#identity;
    if (identity === undefined) {
      throw new AuthError('command before authentication');
    }
    const { policy, metrics, connection, approvals, clock } = this.#deps;
    const decision = policy.decide({ connection: connection.name, identity, command });
    metrics.commandsTotal.inc({
      connection: connection.name,
      protocol: command.protocol,
      decision: decision.action,
    });
    const startedAt = clock.now().getTime();
    const [commandEvent] = await Promise.all([
      this.#append(
        EventType.Command,
        {
          kind: command.kind,
          text: command.text,
          ...(command.attributes === undefined ? {} : { attributes: command.attributes }),
        },
        secrets,
      ),
      this.#append(EventType.Decision, {
        action: decision.action,
        ...(decision.ruleId === undefined ? {} : { rule: decision.ruleId }),
        ...(decision.message === undefined ? {} : { message: decision.message }),
      }),
    ]);
    const seq = commandEvent?.seq ?? 0;
    const ticket: CommandTicket = { seq, command, decision, startedAt };
    if (decision.action === 'allow') return ticket;
    if (decision.action === 'deny') {
      throw new PolicyDeniedError(denialMessage(decision.ruleId, decision.message), {
        ...(decision.ruleId === undefined ? {} : { ruleId: decision.ruleId }),
      });
    }
    const signals = [signal, this.#deps.signal].filter((s): s is AbortSignal => s !== undefined);
    const outcome = await approvals.request(
      { sessionId: this.info.id, connection: connection.name, identity, command, decision },
      signals.length === 0 ? undefined : AbortSignal.any(signals),
    );
    if (outcome.status === 'approved') return ticket;
    const ruleOpt = decision.ruleId === undefined ? {} : { ruleId: decision.ruleId };
    if (outcome.status === 'denied') {
      const why = outcome.reason ? `: ${outcome.reason}` : '';
      throw new PolicyDeniedError(`request ${outcome.id} was denied by ${outcome.approver}${why}`, {
        ...ruleOpt,
        code: ErrorCode.ApprovalDenied,
      });
    }
    throw new PolicyDeniedError(`request ${outcome.id} was not approved in time`, {
      ...ruleOpt,
      code: ErrorCode.ApprovalTimeout,
    });
  }

  result(ticket: CommandTicket, result: CommandResult): void {
    const durationMs = this.#deps.clock.now().getTime() - ticket.startedAt;
    this.#append(EventType.Result, { command: ticket.seq, durationMs, ...result }, [], true).catch(() => {
      // Already counted and reported by #append; the command has run, so there is nothing to refuse.
    });
  }

  output(stream: OutputStream, data: Buffer | string): void {
    if (this.#ended !== undefined) return;
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (bytes.length === 0) return;
    const pending = this.#output;
    // One event per run of the same stream, so that replay keeps the interleaving of input and output.
    if (pending !== undefined && pending.stream !== stream) this.#flushOutput();
    const t = this.#deps.clock.now().getTime() - this.info.startedAt.getTime();
    this.#output ??= { stream, chunks: [], size: 0, t };
    this.#output.chunks.push(bytes);
    this.#output.size += bytes.length;
    if (this.#output.size >= OUTPUT_BATCH_BYTES) this.#flushOutput();
    else this.#outputTimer ??= setTimeout(() => this.#flushOutput(), OUTPUT_BATCH_MS);
  }

  #flushOutput(): void {
    if (this.#outputTimer !== undefined) clearTimeout(this.#outputTimer);
    this.#outputTimer = undefined;
    const pending = this.#output;
    this.#output = undefined;
    if (pending === undefined) return;
    const bytes = Buffer.concat(pending.chunks, pending.size);
    const text = bytes.toString('utf8');
    // Text when the bytes are valid UTF-8 (replay and search read it as is), base64 otherwise.
    const exact = Buffer.from(text, 'utf8').equals(bytes);
    this.#append(
      EventType.Output,
      {
        stream: pending.stream,
        t: pending.t,
        ...(exact ? { data: text } : { data: bytes.toString('base64'), encoding: 'base64' }),
      },
      [],
      true,
    ).catch(() => {
      // Reported by #append; the bytes have already been shown, there is nothing left to refuse.
    });
  }

  masker(): Masker {
    const identity = this.#identity;
    if (identity === undefined) throw new AuthError('masking before authentication');
    this.#masker ??= this.#deps.policy.masker(this.#deps.connection.name, identity);
    return this.#masker;
  }

  end(reason: EndReason, detail?: string): Promise<void> {
    if (this.#ended === undefined) this.#flushOutput();
    this.#ended ??= this.#append(EventType.SessionEnd, {
      reason,
      ...(detail === undefined ? {} : { detail }),
    })
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => this.#deps.onEnd?.(this));
    return this.#ended;
  }

  async #append(
    type: EventInput['type'],
    data: Readonly<Record<string, unknown>>,
    secrets: readonly string[] = [],
    /** Nothing waits for the event (see EventInput.defer). */
    defer = false,
  ): Promise<StoredEvent | undefined> {
    const { log, metrics, clock } = this.#deps;
    const allSecrets = secrets.length === 0 ? this.#deps.secrets : [...this.#deps.secrets, ...secrets];
    const started = clock.now().getTime();
    try {
      const stored = await log.append({
        sessionId: this.info.id,
        type,
        data,
        secrets: allSecrets,
        ...(defer ? { defer } : {}),
      });
      metrics.logCommitSeconds.observe((clock.now().getTime() - started) / 1000);
      return stored;
    } catch (err) {
      metrics.logFailuresTotal.inc();
      const error =
        err instanceof LogWriteError ? err : new LogWriteError('session log unavailable', { cause: err });
      this.#logger.error({ err: error.message, event: type }, 'session log append failed');
      if (log.strict) throw error;
      return undefined;
    }
  }
}

const OUTPUT_BATCH_MS = 50;
const OUTPUT_BATCH_BYTES = 16 * 1024;

export function denialMessage(ruleId: string | undefined, message: string | undefined): string {
  const text = message ?? 'command not allowed by policy';
  return ruleId === undefined ? text : `${text} (rule ${ruleId})`;
}
