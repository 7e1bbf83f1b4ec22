import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import {
  type ApprovalBroker,
  type Clock,
  ConfigError,
  type ConnectionContext,
  type ConnectionSettings,
  type EndReason,
  ErrorCode,
  GatewayError,
  type Logger,
  type PolicyEngine,
  type ProtocolModule,
  type SessionLogWriter,
  systemClock,
  type TokenVerifier,
  toGatewayError,
} from '@gatehouse/core';
import type { AccessRule } from './access.js';
import { GatewayMetrics } from './metrics.js';
import type { ProtocolRegistry } from './registry.js';
import { Session } from './session.js';

export interface GatewayConnection {
  readonly settings: ConnectionSettings;
  readonly access?: AccessRule | undefined;
}

export interface GatewayOptions {
  readonly connections: readonly GatewayConnection[];
  readonly modules: ProtocolRegistry;
  readonly verifier: TokenVerifier;
  readonly policy: PolicyEngine;
  readonly log: SessionLogWriter;
  readonly approvals: ApprovalBroker;
  readonly logger: Logger;
  readonly dataDir: string;
  readonly clock?: Clock;
  readonly metrics?: GatewayMetrics;
  /** Resolved config secrets; redacted from every log event. */
  readonly secrets?: readonly string[];
  /** How long open sessions may finish on shutdown before they are closed. */
  readonly drainTimeoutMs?: number;
  /** Per client address, per connection; 0 means unlimited. */
  readonly maxConnectionsPerSource?: number;
}

interface Live {
  readonly session: Session;
  readonly socket: Socket;
  readonly abort: AbortController;
  readonly done: Promise<void>;
}

const END_REASON_BY_CODE: Partial<Record<string, EndReason>> = {
  [ErrorCode.Protocol]: 'protocol-error',
  [ErrorCode.AuthFailed]: 'auth-failed',
  [ErrorCode.AccessDenied]: 'access-denied',
  [ErrorCode.Upstream]: 'upstream-error',
  [ErrorCode.LogUnavailable]: 'log-unavailable',
  [ErrorCode.Timeout]: 'handshake-timeout',
  [ErrorCode.ShuttingDown]: 'gateway-shutdown',
};

/**
 * Owns the listeners: one per configured connection. Each accepted socket gets a session (logged
 * before the first byte is read) and is handed to the connection's protocol module.
 */
export class Gateway {
  readonly metrics: GatewayMetrics;
  readonly #opts: GatewayOptions;
  readonly #clock: Clock;
  readonly #servers = new Map<string, Server>();
  readonly #live = new Set<Live>();
  readonly #perSource = new Map<string, number>();
  /** Every accepted socket, so that shutdown can cut the ones nobody closes. */
  readonly #sockets = new Set<Socket>();
  #draining = false;
  #shutdown: Promise<void> | undefined;

  private constructor(opts: GatewayOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
    this.metrics = opts.metrics ?? new GatewayMetrics();
  }

  /** Binds every listener; if one cannot be bound, closes the others and rejects. */
  static async start(opts: GatewayOptions): Promise<Gateway> {
    for (const conn of opts.connections) {
      const module = opts.modules.get(conn.settings.protocol);
      if (module === undefined) {
        throw new GatewayError(
          ErrorCode.Config,
          `connection "${conn.settings.name}": no protocol module for "${conn.settings.protocol}"`,
        );
      }
      try {
        module.checkConnection?.(conn.settings);
      } catch (err) {
        const error = toGatewayError(err, ErrorCode.Config);
        const at = error instanceof ConfigError && error.path ? `${error.path}: ` : '';
        throw new ConfigError(`connection "${conn.settings.name}": ${at}${error.message}`, { cause: err });
      }
    }
    const gateway = new Gateway(opts);
    try {
      for (const conn of opts.connections) await gateway.#listen(conn);
    } catch (err) {
      await gateway.shutdown();
      throw err;
    }
    return gateway;
  }

  /** The bound address of each connection, by name (useful with port 0). */
  addresses(): Record<string, { host: string; port: number }> {
    const out: Record<string, { host: string; port: number }> = {};
    for (const [name, server] of this.#servers) {
      const addr = server.address();
      if (addr !== null && typeof addr === 'object') out[name] = { host: addr.address, port: addr.port };
    }
    return out;
  }

  get openSessions(): number {
    return this.#live.size;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /**
   * Stops accepting, lets open sessions finish for the drain timeout, then aborts the rest; every
   * session ends with a logged reason. Idempotent.
   */
  shutdown(): Promise<void> {
    this.#shutdown ??= this.#doShutdown();
    return this.#shutdown;
  }

  async #doShutdown(): Promise<void> {
    this.#draining = true;
    const closed = [...this.#servers.values()].map(
      (server) => new Promise<void>((resolve) => server.close(() => resolve())),
    );
    const drainMs = this.#opts.drainTimeoutMs ?? 10_000;
    const all = () => Promise.all([...this.#live].map((l) => l.done));
    if (this.#live.size > 0) {
      this.#opts.logger.info({ sessions: this.#live.size, drainMs }, 'draining sessions');
      await Promise.race([all(), delay(drainMs)]);
    }
    if (this.#live.size > 0) {
      this.#opts.logger.warn({ sessions: this.#live.size }, 'closing sessions still open after drain');
      for (const live of this.#live) {
        void live.session.end('gateway-shutdown');
        live.abort.abort(new GatewayError(ErrorCode.ShuttingDown, 'the gateway is shutting down'));
      }
      // Modules get a moment to send a protocol-native goodbye before the sockets are cut.
      await Promise.race([all(), delay(2_000)]);
      for (const live of this.#live) live.socket.destroy();
      await all();
    }
    for (const socket of this.#sockets) socket.destroy();
    await Promise.all(closed);
  }

  async #listen(conn: GatewayConnection): Promise<void> {
    const { settings } = conn;
    const module = this.#opts.modules.get(settings.protocol) as ProtocolModule;
    const server = createServer({ noDelay: true, pauseOnConnect: true }, (socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
      this.#accept(conn, module, socket).catch((err: unknown) => {
        this.#opts.logger.error({ err: toGatewayError(err).message }, 'connection handling failed');
        socket.destroy();
      });
    });
    server.on('error', (err) => {
      this.#opts.logger.error({ connection: settings.name, err: err.message }, 'listener error');
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        const why = err.code === 'EADDRINUSE' ? 'address already in use' : err.message;
        reject(
          new GatewayError(
            ErrorCode.Config,
            `connection "${settings.name}": cannot listen on ${settings.listen.host}:${settings.listen.port}: ${why}`,
            { cause: err },
          ),
        );
      };
      server.once('error', onError);
      server.listen(settings.listen.port, settings.listen.host, () => {
        server.off('error', onError);
        resolve();
      });
    });
    this.#servers.set(settings.name, server);
    this.#opts.logger.info(
      { connection: settings.name, protocol: settings.protocol, listen: this.addresses()[settings.name] },
      'listening',
    );
  }

  async #accept(conn: GatewayConnection, module: ProtocolModule, socket: Socket): Promise<void> {
    const { settings } = conn;
    // A reset before we look at the socket must not become an unhandled 'error' event.
    socket.on('error', () => {});
    if (this.#draining) {
      this.metrics.connectionsRejected.inc({ connection: settings.name, reason: 'shutting-down' });
      await reject(module, socket, new GatewayError(ErrorCode.ShuttingDown, 'the gateway is shutting down'));
      return;
    }
    const source = socket.remoteAddress ?? 'unknown';
    const sourceKey = `${settings.name}|${source}`;
    const limit = this.#opts.maxConnectionsPerSource ?? 0;
    const current = this.#perSource.get(sourceKey) ?? 0;
    if (limit > 0 && current >= limit) {
      this.metrics.connectionsRejected.inc({ connection: settings.name, reason: 'per-source-limit' });
      await reject(
        module,
        socket,
        new GatewayError(ErrorCode.AccessDenied, `too many connections from ${source}`),
      );
      return;
    }
    this.#perSource.set(sourceKey, current + 1);
    try {
      await this.#serve(conn, module, socket, source);
    } finally {
      const n = (this.#perSource.get(sourceKey) ?? 1) - 1;
      if (n <= 0) this.#perSource.delete(sourceKey);
      else this.#perSource.set(sourceKey, n);
    }
  }

  async #serve(
    conn: GatewayConnection,
    module: ProtocolModule,
    socket: Socket,
    source: string,
  ): Promise<void> {
    const { settings } = conn;
    const opts = this.#opts;
    const labels = { connection: settings.name, protocol: settings.protocol };
    const abort = new AbortController();
    const session = new Session({
      signal: abort.signal,
      info: {
        id: randomUUID(),
        connection: settings.name,
        protocol: settings.protocol,
        clientAddress: source,
        startedAt: this.#clock.now(),
      },
      connection: settings,
      access: conn.access,
      verifier: opts.verifier,
      policy: opts.policy,
      log: opts.log,
      approvals: opts.approvals,
      clock: this.#clock,
      logger: opts.logger,
      metrics: this.metrics,
      secrets: opts.secrets ?? [],
    });
    try {
      await session.start({ clientPort: socket.remotePort, listenPort: socket.localPort });
    } catch (err) {
      // Strict log: no record, no session.
      this.metrics.connectionsRejected.inc({ connection: settings.name, reason: 'log-unavailable' });
      await reject(module, socket, toGatewayError(err));
      return;
    }
    this.metrics.sessionsTotal.inc(labels);
    this.metrics.sessionsOpen.inc(labels);
    const ctx: ConnectionContext = {
      connection: settings,
      session,
      verifier: opts.verifier,
      policy: opts.policy,
      log: opts.log,
      approvals: opts.approvals,
      clock: this.#clock,
      logger: opts.logger.child({ session: session.info.id, connection: settings.name }),
      dataDir: opts.dataDir,
    };
    let settle!: () => void;
    const done = new Promise<void>((resolve) => {
      settle = resolve;
    });
    const live: Live = { session, socket, abort, done };
    this.#live.add(live);
    try {
      socket.resume();
      await module.handleConnection(socket, ctx, abort.signal);
      await session.end(abort.signal.aborted ? 'gateway-shutdown' : 'client-closed');
    } catch (err) {
      const error = toGatewayError(err);
      ctx.logger.warn({ code: error.code, err: error.message }, 'session ended with an error');
      await session.end(END_REASON_BY_CODE[error.code] ?? 'error', error.message);
    } finally {
      if (!socket.destroyed) socket.destroy();
      this.metrics.sessionsOpen.dec(labels);
      this.#live.delete(live);
      settle();
    }
  }
}

/** Lets the module say why in its own protocol, then makes sure the socket goes away. */
async function reject(module: ProtocolModule, socket: Socket, error: GatewayError): Promise<void> {
  try {
    await module.rejectConnection(socket, error);
  } finally {
    socket.end();
    setTimeout(() => socket.destroy(), 1_000).unref();
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
