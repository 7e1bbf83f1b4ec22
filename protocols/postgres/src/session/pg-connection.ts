import type { Socket } from 'node:net';
import {
  AuthError,
  type ConnectionContext,
  type EndReason,
  ErrorCode,
  type GatewayError,
  isGatewayError,
  toGatewayError,
} from '@gatehouse/core';
import type { SqlAnalyzer } from '../sql/index.js';
import { sendUpstreamCancel } from '../upstream/upstream-cancel.js';
import {
  connectUpstream,
  type UpstreamConnection,
  UpstreamRefusedError,
  type UpstreamTarget,
} from '../upstream/upstream-connect.js';
import {
  authenticationCleartextPassword,
  authenticationOk,
  backendKeyData,
  type CancelRequest,
  type FrontendMessage,
  negotiateProtocolVersion,
  readPasswordResponse,
  readyForQuery,
  type StartupMessage,
} from '../wire/index.js';
import { BackendRelay, UnsafeSettingError } from './backend-relay.js';
import type { CancelKeyRegistry, IssuedCancelKey } from './cancel-keys.js';
import { ClientClosedError, ClientReader } from './client-reader.js';
import { readStartupPacket, write } from './client-startup.js';
import { FrontendRelay } from './frontend-relay.js';
import type { PostgresOptions } from './options.js';
import { RelayState } from './relay-state.js';
import type { BackendMessageFilter } from './result-filter.js';
import type { ServerTls } from './server-tls.js';
import { fatal, SqlState } from './sql-state.js';
import { checkStartupParameters } from './startup-params.js';

/** What every connection of one module instance shares. */
export interface PostgresServices {
  readonly analyzer: SqlAnalyzer;
  readonly cancelKeys: CancelKeyRegistry;
  readonly tls: ServerTls;
  /** Resolves once the SQL parser is loaded. */
  readonly ready: () => Promise<void>;
  /** Makes the filter every upstream message passes through (result masking). */
  readonly filterFor: (ctx: ConnectionContext) => BackendMessageFilter;
}

/** How the upstream is configured for this connection (`connection.upstream`). */
export interface UpstreamSettings {
  readonly host: string;
  readonly port: number;
  readonly database: string | undefined;
  readonly user: string;
  readonly password: string | undefined;
  readonly tls: UpstreamTarget['tls'];
}

const CANCEL_TIMEOUT_MS = 5_000;

/** Why the connection ended, for the session log; unset means the client closed it. */
interface Ending {
  readonly reason: EndReason;
  readonly detail: string;
}

/**
 * One client connection: the start (TLS, token, startup parameters), the login upstream with the
 * gateway's credentials, then the relay until either side closes.
 */
export class PgConnection {
  readonly #ctx: ConnectionContext;
  readonly #signal: AbortSignal;
  readonly #services: PostgresServices;
  readonly #options: PostgresOptions;
  readonly #upstream: UpstreamSettings;
  readonly #reader: ClientReader;
  #ending: Ending | undefined;

  constructor(
    socket: Socket,
    ctx: ConnectionContext,
    signal: AbortSignal,
    services: PostgresServices,
    options: PostgresOptions,
    upstream: UpstreamSettings,
  ) {
    this.#ctx = ctx;
    this.#signal = signal;
    this.#services = services;
    this.#options = options;
    this.#upstream = upstream;
    // Attached before anything is awaited: the gateway has already resumed the socket.
    this.#reader = new ClientReader(socket, options.maxMessageLength);
  }

  async run(): Promise<void> {
    const raw = this.#reader.socket;
    const deadline = setTimeout(() => this.#handshakeExpired(), this.#options.handshakeTimeoutMs);
    const onAbort = () =>
      this.#end(
        { reason: 'gateway-shutdown', detail: 'the gateway is shutting down' },
        fatal(SqlState.AdminShutdown, 'the gateway is shutting down'),
      );
    this.#signal.addEventListener('abort', onAbort, { once: true });
    let upstream: UpstreamConnection | undefined;
    try {
      const started = await this.#start(deadline);
      if (started === undefined) return;
      upstream = started.upstream;
      clearTimeout(deadline);
      await this.#relay(started.upstream, started.key, started.pending);
    } catch (err) {
      const error = toGatewayError(err);
      if (!(error instanceof ClientClosedError) && this.#ending === undefined) {
        this.#end(
          { reason: error.code === ErrorCode.Protocol ? 'protocol-error' : 'error', detail: error.message },
          fatal(
            error.code === ErrorCode.Protocol ? SqlState.ProtocolViolation : SqlState.InternalError,
            error.message,
          ),
        );
      }
    } finally {
      clearTimeout(deadline);
      this.#signal.removeEventListener('abort', onAbort);
      upstream?.socket.destroy();
      await new Promise<void>((resolve) => {
        const socket = this.#reader.socket;
        if (socket.destroyed) return resolve();
        socket.once('close', () => resolve());
        socket.end();
        setTimeout(() => socket.destroy(), 1_000).unref();
      });
      if (!raw.destroyed) raw.destroy();
      if (this.#ending !== undefined) await this.#ctx.session.end(this.#ending.reason, this.#ending.detail);
    }
  }

  /** Ends the connection with a reason for the log and, when given, a last message to the client. */
  #end(ending: Ending, goodbye?: Buffer): void {
    this.#ending ??= ending;
    const socket = this.#reader.socket;
    if (goodbye !== undefined && socket.writable) socket.end(goodbye);
    else socket.end();
    setTimeout(() => socket.destroy(), 1_000).unref();
  }

  #handshakeExpired(): void {
    const detail = `the connection did not complete its start within ${this.#options.handshakeTimeoutMs}ms`;
    this.#end({ reason: 'handshake-timeout', detail }, fatal(SqlState.ProtocolViolation, detail));
    this.#reader.socket.destroy();
  }

  async #start(
    deadline: NodeJS.Timeout,
  ): Promise<{ upstream: UpstreamConnection; key: IssuedCancelKey; pending: FrontendMessage[] } | undefined> {
    const { session, dataDir } = this.#ctx;
    const tlsContext = this.#services.tls.context(this.#options, dataDir);
    const packet = await readStartupPacket(
      this.#reader,
      tlsContext === undefined ? undefined : () => tlsContext,
    );
    if (packet.kind === 'cancel') {
      clearTimeout(deadline);
      await this.#cancel(packet.message);
      return undefined;
    }
    const startup = packet.message;
    const client = this.#reader.socket;
    if (!packet.tls && !this.#options.allowPlaintext) {
      const message = 'this connection requires TLS: the token must not cross the network in the clear';
      this.#end(
        { reason: 'access-denied', detail: message },
        fatal(SqlState.InvalidAuthorization, message, { hint: 'connect with sslmode=require' }),
      );
      return undefined;
    }
    const rules = this.#startupRules();
    const decision = checkStartupParameters(startup.parameters, rules);
    const user = startupUser(startup);
    if (startup.minorVersion > 0 || (decision.ok && decision.unsupportedOptions.length > 0)) {
      await write(client, negotiateProtocolVersion(0, decision.ok ? decision.unsupportedOptions : []));
    }
    await write(client, authenticationCleartextPassword());
    const answer = await this.#reader.next();
    if (answer.type !== 'PasswordMessage') {
      this.#end(
        { reason: 'protocol-error', detail: `expected a password, got ${answer.type}` },
        fatal(SqlState.ProtocolViolation, 'expected a password message'),
      );
      return undefined;
    }
    const token = readPasswordResponse(answer);
    try {
      await session.authenticate(token, { method: 'password', ...(user === undefined ? {} : { user }) });
    } catch (err) {
      this.#refuseAuth(err);
      return undefined;
    }
    if (!decision.ok) {
      this.#end(
        { reason: 'access-denied', detail: decision.message },
        fatal(decision.code, decision.message, decision.hint === undefined ? {} : { hint: decision.hint }),
      );
      return undefined;
    }
    await this.#services.ready();
    let upstream: UpstreamConnection;
    const target: UpstreamTarget = { ...this.#upstream, user: decision.user, database: decision.database };
    try {
      upstream = await connectUpstream(target, {
        timeoutMs: this.#options.connectTimeoutMs,
        parameters: decision.settings,
        signal: this.#signal,
      });
    } catch (err) {
      this.#refuseUpstream(err);
      return undefined;
    }
    if (upstream.parameters.get('standard_conforming_strings') === 'off') {
      upstream.socket.destroy();
      const message =
        'the upstream session has standard_conforming_strings off; the gateway cannot judge SQL read that way';
      this.#end({ reason: 'upstream-error', detail: message }, fatal(SqlState.FeatureNotSupported, message));
      return undefined;
    }
    const key = this.#services.cancelKeys.issue({
      connection: this.#ctx.connection.name,
      cancel: async () => {
        await session.annotate({ cancelRequested: true }).catch(() => undefined);
        await sendUpstreamCancel(target, upstream.processId, upstream.secretKey, CANCEL_TIMEOUT_MS);
      },
    });
    try {
      await session.annotate({
        database: decision.database,
        user: decision.user,
        clientTls: packet.tls,
        ...(decision.applicationName === undefined ? {} : { applicationName: decision.applicationName }),
        upstream: {
          host: target.host,
          port: target.port,
          tls: upstream.tls,
          auth: upstream.authMethod,
          serverVersion: upstream.parameters.get('server_version'),
        },
      });
    } catch (err) {
      key.release();
      upstream.socket.destroy();
      const error = toGatewayError(err);
      this.#end(
        { reason: 'log-unavailable', detail: error.message },
        fatal(SqlState.IoError, `session log unavailable: ${error.message}`),
      );
      return undefined;
    }
    const hello: Buffer[] = [authenticationOk(), ...upstream.notices, ...upstream.parameterStatus];
    hello.push(backendKeyData(key.processId, key.secretKey), readyForQuery(upstream.status));
    client.write(Buffer.concat(hello));
    return { upstream, key, pending: [] };
  }

  #startupRules() {
    return {
      upstreamUser: this.#upstream.user,
      upstreamDatabase: this.#upstream.database,
      users: this.#options.users,
      databases: this.#options.databases,
      settings: this.#options.settings,
    };
  }

  #refuseAuth(err: unknown): void {
    const error = toGatewayError(err);
    const denied = error instanceof AuthError && error.code === ErrorCode.AccessDenied;
    const message = denied ? error.message : `token rejected: ${error.message}`;
    if (isGatewayError(error, ErrorCode.LogUnavailable)) {
      this.#end(
        { reason: 'log-unavailable', detail: error.message },
        fatal(SqlState.IoError, `session log unavailable: ${error.message}`),
      );
      return;
    }
    this.#end(
      { reason: denied ? 'access-denied' : 'auth-failed', detail: message },
      fatal(denied ? SqlState.InvalidAuthorization : SqlState.InvalidPassword, message),
    );
  }

  #refuseUpstream(err: unknown): void {
    const error = toGatewayError(err);
    this.#ctx.logger.warn({ err: error.message }, 'upstream connection failed');
    if (error instanceof UpstreamRefusedError && error.authentication) {
      this.#end(
        { reason: 'upstream-error', detail: error.message },
        fatal(SqlState.InvalidPassword, "upstream refused the gateway's credentials", {
          detail: `the upstream answered SQLSTATE ${error.fields.get('C') ?? '?'}; check the connection's upstream user and password`,
        }),
      );
      return;
    }
    if (error instanceof UpstreamRefusedError) {
      const f = error.fields;
      this.#end(
        { reason: 'upstream-error', detail: error.message },
        fatal(f.get('C') ?? SqlState.UnableToConnect, `upstream: ${f.get('M') ?? 'connection refused'}`, {
          ...(f.get('D') === undefined ? {} : { detail: f.get('D') }),
          ...(f.get('H') === undefined ? {} : { hint: f.get('H') }),
        }),
      );
      return;
    }
    this.#end(
      { reason: 'upstream-error', detail: error.message },
      fatal(SqlState.UnableToConnect, `cannot connect to the upstream server: ${error.message}`),
    );
  }

  async #cancel(request: CancelRequest): Promise<void> {
    const target = this.#services.cancelKeys.find(
      this.#ctx.connection.name,
      request.processId,
      request.secretKey,
    );
    // Unknown keys are dropped without a word, as PostgreSQL does.
    if (target !== undefined) await target.cancel();
    this.#end({
      reason: 'cancel-request',
      detail: target === undefined ? 'unknown cancel key' : 'forwarded upstream',
    });
  }

  async #relay(
    upstream: UpstreamConnection,
    key: IssuedCancelKey,
    pending: FrontendMessage[],
  ): Promise<void> {
    const { session, logger } = this.#ctx;
    const client = this.#reader.socket;
    const state = new RelayState(
      client,
      upstream.socket,
      session,
      this.#services.filterFor(this.#ctx),
      logger,
    );
    state.status = upstream.status;
    const backend = new BackendRelay(state);
    const lost = new AbortController();
    const signal = AbortSignal.any([lost.signal, this.#signal]);
    let upstreamGone = false;
    const frontend = new FrontendRelay({
      state,
      analyzer: this.#services.analyzer,
      options: this.#options,
      signal,
      onTerminate: () => {
        upstream.socket.end();
        client.end();
      },
      onFatal: (error) => fail(error),
    });
    const fail = (error: GatewayError): void => {
      frontend.stop();
      const unsafe = error instanceof UnsafeSettingError;
      const protocol = error.code === ErrorCode.Protocol;
      this.#end(
        { reason: unsafe ? 'refused-setting' : protocol ? 'protocol-error' : 'error', detail: error.message },
        state.fatalSent !== undefined
          ? undefined
          : fatal(
              unsafe
                ? SqlState.FeatureNotSupported
                : protocol
                  ? SqlState.ProtocolViolation
                  : SqlState.InternalError,
              error.message,
            ),
      );
      upstream.socket.destroy();
    };
    const closed = new Promise<void>((resolve) => {
      // The client may have gone while the upstream login was under way.
      if (client.destroyed) resolve();
      else client.once('close', () => resolve());
    });
    upstream.socket.on('data', (chunk: Buffer) => {
      try {
        backend.push(chunk);
        if (state.fatalSent !== undefined) {
          this.#ending ??= {
            reason: 'upstream-closed',
            detail: `the upstream ended the session: ${state.fatalSent}`,
          };
        }
      } catch (err) {
        const error = toGatewayError(err);
        fail(
          error.code === ErrorCode.Protocol && !(error instanceof UnsafeSettingError)
            ? upstreamOutOfStep(error)
            : error,
        );
      }
    });
    const upstreamClosed = () => {
      if (upstreamGone) return;
      upstreamGone = true;
      frontend.stop();
      const detail = 'the upstream server closed the connection';
      this.#end(
        { reason: 'upstream-closed', detail },
        state.fatalSent !== undefined || this.#ending !== undefined
          ? undefined
          : fatal(SqlState.ConnectionFailure, `${detail} unexpectedly`),
      );
    };
    upstream.socket.on('close', upstreamClosed);
    upstream.socket.on('error', upstreamClosed);
    upstream.socket.resume();
    this.#reader.handOff(
      (messages) => frontend.push(messages),
      (error) => {
        if (error instanceof ClientClosedError) return;
        fail(error);
      },
    );
    if (pending.length > 0) frontend.push(pending);
    try {
      await closed;
    } finally {
      lost.abort();
      frontend.stop();
      key.release();
      upstream.socket.destroy();
      for (const item of state.pending.clear()) state.discard(item, 'connection-lost');
    }
  }
}

function startupUser(m: StartupMessage): string | undefined {
  return m.parameters.find((p) => p.name === 'user')?.value;
}

function upstreamOutOfStep(error: GatewayError): GatewayError {
  error.message = `upstream protocol error: ${error.message}`;
  return error;
}
