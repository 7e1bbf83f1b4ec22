import type { Socket } from 'node:net';
import {
  type ConnectionContext,
  type EndReason,
  ErrorCode,
  toGatewayError,
  UpstreamError,
} from '@gatehouse/core';
import type { Connection } from 'ssh2';
import type { ChannelHost, LiveChannel } from './channel-host.js';
import { type AuthSuccess, ClientAuth } from './client-auth.js';
import { Forwarding } from './forwarding.js';
import { printable } from './judge.js';
import type { SshOptions, SshUpstream } from './options.js';
import { SessionChannel } from './session-channel.js';
import { UpstreamConnection, type UpstreamLoss } from './upstream.js';

/** After the upstream failed at login, how long a client gets to open the channel that tells it why. */
const FAILURE_GRACE_MS = 3_000;
/** How long channels get to deliver a goodbye before the connection is cut. */
const GOODBYE_MS = 500;

/**
 * One client connection: authentication, the upstream connection opened for it, and its channels.
 * `run()` resolves when the client socket is closed; the module ends the session afterwards.
 */
export class SshConnection {
  readonly #socket: Socket;
  readonly #ctx: ConnectionContext;
  readonly #options: SshOptions;
  readonly #upstreamConfig: SshUpstream;
  readonly #stop: AbortSignal;
  readonly #abort = new AbortController();
  readonly #channels = new Set<LiveChannel>();
  readonly #auth: ClientAuth;
  #client: Connection | undefined;
  #upstream: Promise<UpstreamConnection> | undefined;
  #upstreamReady: UpstreamConnection | undefined;
  #forwarding: Forwarding | undefined;
  #handshake: NodeJS.Timeout | undefined;
  #end: { reason: EndReason; detail: string } | undefined;
  #closing = false;

  constructor(
    socket: Socket,
    ctx: ConnectionContext,
    stop: AbortSignal,
    options: SshOptions,
    upstream: SshUpstream,
  ) {
    this.#socket = socket;
    this.#ctx = ctx;
    this.#stop = stop;
    this.#options = options;
    this.#upstreamConfig = upstream;
    this.#auth = new ClientAuth({
      session: ctx.session,
      options,
      upstream,
      logger: ctx.logger,
      onExhausted: (reason) => {
        this.#setEnd('auth-failed', reason);
        // The refusal is already written; cut before the client tries another method.
        this.#closeClient(0);
      },
    });
  }

  /** Why the session ended, when the connection knows better than "the client closed". */
  get end(): { reason: EndReason; detail: string } | undefined {
    return this.#end;
  }

  /** Serves the connection; resolves once the client socket is closed. */
  async run(): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      if (this.#socket.destroyed) resolve();
      else this.#socket.once('close', () => resolve());
    });
    const onStop = () => this.#shutdown();
    this.#stop.addEventListener('abort', onStop, { once: true });
    this.#handshake = setTimeout(() => {
      this.#setEnd('handshake-timeout', `no authentication within ${this.#options.handshakeTimeoutMs}ms`);
      this.#closeClient(0);
    }, this.#options.handshakeTimeoutMs);
    if (this.#stop.aborted) this.#shutdown();
    try {
      await closed;
    } finally {
      clearTimeout(this.#handshake);
      this.#stop.removeEventListener('abort', onStop);
      this.#abort.abort();
      this.#forwarding?.close();
      this.#upstreamReady?.end();
      // A login still under way is ended as soon as it completes.
      this.#upstream?.then((u) => u.end()).catch(() => {});
    }
  }

  /** Called by the server for this connection's socket once the client's identification arrived. */
  attach(client: Connection): void {
    this.#client = client;
    client.on('error', (err: Error & { level?: string }) => {
      this.#ctx.logger.debug({ err: err.message, level: err.level }, 'ssh client connection error');
      if (this.#end === undefined && !this.#auth.success && err.level !== 'socket') {
        this.#setEnd('protocol-error', err.message);
      }
    });
    client.on('authentication', (authCtx) => this.#auth.handle(authCtx));
    client.on('ready', () => this.#ready());
    client.on('close', () => {
      if (!this.#socket.destroyed) this.#socket.destroy();
    });
  }

  #ready(): void {
    clearTimeout(this.#handshake);
    const client = this.#client as Connection;
    const auth = this.#auth.success as AuthSuccess;
    const host: ChannelHost = {
      ctx: this.#ctx,
      options: this.#options,
      auth,
      signal: this.#abort.signal,
      upstream: () => this.#connectUpstream(auth),
      track: (channel) => {
        this.#channels.add(channel);
        return () => this.#channels.delete(channel);
      },
    };
    // Connected at once: the first channel should not wait for it, and a broken upstream is
    // reported as early as possible.
    this.#connectUpstream(auth).catch(() => {});
    this.#forwarding = new Forwarding(host, client);
    client.on('session', (accept) => {
      const session = accept();
      if (session !== undefined) new SessionChannel(host, session);
    });
    client.on('tcpip', (accept, reject, info) => this.#forwarding?.direct(accept, reject, info));
    client.on('request', (accept, reject, name, info) =>
      this.#forwarding?.request(accept, reject, name, info),
    );
    client.on('openssh.streamlocal', (_accept, reject) => {
      reject();
      this.#ctx.session
        .annotate({ refused: 'streamlocal', reason: 'Unix socket forwarding is not offered' })
        .catch(() => {});
    });
  }

  #connectUpstream(auth: AuthSuccess): Promise<UpstreamConnection> {
    this.#upstream ??= this.#openUpstream(auth);
    return this.#upstream;
  }

  async #openUpstream(auth: AuthSuccess): Promise<UpstreamConnection> {
    const started = this.#ctx.clock.now().getTime();
    let upstream: UpstreamConnection;
    try {
      upstream = await UpstreamConnection.connect(this.#upstreamConfig, auth.upstreamUser, this.#options);
    } catch (err) {
      const error =
        err instanceof UpstreamError ? err : new UpstreamError(toGatewayError(err).message, { cause: err });
      const presented = error.details['presented'];
      this.#setEnd(
        'upstream-error',
        presented === undefined ? error.message : `${error.message} (presented ${String(presented)})`,
      );
      this.#ctx.logger.warn({ err: error.message, ...error.details }, 'ssh upstream login failed');
      // The client's channels say why; one that opens none is disconnected after a grace period.
      this.#closeClient(FAILURE_GRACE_MS);
      throw error;
    }
    if (this.#abort.signal.aborted) {
      upstream.end();
      throw new UpstreamError('the client connection is gone');
    }
    this.#upstreamReady = upstream;
    upstream.once('lost', (loss: UpstreamLoss) => this.#upstreamLost(loss));
    await this.#ctx.session
      .annotate({
        upstream: {
          host: this.#upstreamConfig.host,
          port: this.#upstreamConfig.port,
          user: auth.upstreamUser,
          hostKey: this.#upstreamConfig.hostKey.fingerprint,
        },
        login: auth.login,
        connectMs: this.#ctx.clock.now().getTime() - started,
      })
      .catch(() => {});
    return upstream;
  }

  #upstreamLost(loss: UpstreamLoss): void {
    if (this.#closing) return;
    this.#setEnd(loss.reason, loss.message);
    for (const channel of [...this.#channels]) channel.terminate(loss.message);
    this.#closeClient(GOODBYE_MS);
  }

  #shutdown(): void {
    if (this.#closing) return;
    for (const channel of [...this.#channels]) channel.terminate('the gateway is shutting down');
    this.#closeClient(GOODBYE_MS);
  }

  #setEnd(reason: EndReason, detail: string): void {
    this.#end ??= { reason, detail: printable(detail) };
  }

  /** Disconnects the client after `delayMs` (so that goodbyes written to channels can leave). */
  #closeClient(delayMs: number): void {
    const cut = () => {
      this.#closing = true;
      try {
        this.#client?.end();
      } catch {
        // Already gone.
      }
      setTimeout(() => this.#socket.destroy(), 1_000).unref();
    };
    if (delayMs <= 0) cut();
    else setTimeout(cut, delayMs).unref();
  }
}

/** Maps an error that escaped the connection to the session's end reason. */
export function endReasonOf(err: unknown): EndReason {
  const error = toGatewayError(err);
  if (error.code === ErrorCode.Upstream) return 'upstream-error';
  if (error.code === ErrorCode.Protocol) return 'protocol-error';
  return 'error';
}
