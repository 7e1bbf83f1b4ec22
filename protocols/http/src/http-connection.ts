import { Agent, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Agent as SecureAgent } from 'node:https';
import type { Socket } from 'node:net';
import {
  type CommandTicket,
  type ConnectionContext,
  type EndReason,
  ErrorCode,
  GatewayError,
  toGatewayError,
} from '@gatehouse/core';
import { type HttpRequestCommand, httpRequest } from '@gatehouse/policy';
import { BearerAuth } from './bearer-auth.js';
import { forward } from './forward.js';
import { headerCount, headerNames } from './headers.js';
import { type HttpOptions, parseHttpOptions } from './options.js';
import { RequestQueue } from './request-queue.js';
import { checkMethod, checkRequestTarget } from './request-target.js';
import { executeErrorStatus, HttpErrorCode, rawErrorResponse, sendError } from './responses.js';
import { type UpstreamTarget, upstreamPath } from './upstream.js';

/** Secret values shorter than this are not worth redacting (and would redact half the log). */
const MIN_SECRET_LENGTH = 8;

/**
 * Serves HTTP/1.1 on one handed-over client socket: one gateway session, many requests. A node
 * HTTP server that never listens parses the socket; requests are handled one at a time, in order,
 * because responses must go back in order anyway and identity checks must not race.
 */
export class HttpConnection {
  readonly #socket: Socket;
  readonly #ctx: ConnectionContext;
  readonly #signal: AbortSignal;
  readonly #upstream: UpstreamTarget;
  readonly #options: HttpOptions;
  readonly #auth: BearerAuth;
  readonly #server: Server;
  readonly #agent: Agent;
  readonly #secrets: string[];
  readonly #requests: RequestQueue;
  #handshake: NodeJS.Timeout | undefined;
  #end: { reason: EndReason; detail: string } | undefined;

  constructor(socket: Socket, ctx: ConnectionContext, signal: AbortSignal, upstream: UpstreamTarget) {
    this.#socket = socket;
    this.#ctx = ctx;
    this.#signal = signal;
    this.#upstream = upstream;
    this.#options = parseHttpOptions(ctx.connection.options);
    this.#auth = new BearerAuth(ctx.session, ctx.verifier, ctx.clock);
    this.#requests = new RequestQueue(socket, (error, res) => {
      this.#ctx.logger.error({ err: error.message }, 'http request handling failed');
      if (res !== undefined)
        sendError(res, 500, ErrorCode.Internal, 'the gateway failed to handle the request', { close: true });
    });
    this.#secrets = Object.values(upstream.headers).filter((v) => v.length >= MIN_SECRET_LENGTH);
    // The agent keeps upstream connections of this client connection warm, and dies with it.
    const agentOptions = { keepAlive: true, maxSockets: 4, timeout: this.#options.keepAliveTimeoutMs };
    this.#agent = upstream.secure ? new SecureAgent(agentOptions) : new Agent(agentOptions);
    const o = this.#options;
    this.#server = createServer(
      {
        maxHeaderSize: o.maxHeaderBytes,
        headersTimeout: o.handshakeTimeoutMs,
        // Off: a request held for review (or a long upload) is not a slow client.
        requestTimeout: 0,
        keepAliveTimeout: o.keepAliveTimeoutMs,
        connectionsCheckingInterval: Math.min(1_000, o.handshakeTimeoutMs),
        requireHostHeader: true,
      },
      (req, res) => this.#enqueue(req, res),
    );
    this.#server.maxHeadersCount = 200;
    // Node would answer `100 Continue` at once; the gateway says it only once policy allowed the
    // request, so a client that waits for it never uploads a body that is then refused.
    this.#server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => this.#enqueue(req, res));
    this.#server.on('clientError', (err: NodeJS.ErrnoException, s: Socket) => this.#clientError(err, s));
    this.#server.on('connect', (_req: IncomingMessage, s: Socket) => {
      s.end(
        rawErrorResponse(
          405,
          HttpErrorCode.MethodNotAllowed,
          'method CONNECT is not allowed through the gateway',
        ),
      );
    });
  }

  /** Resolves when the client connection is closed. */
  async run(): Promise<void> {
    const socket = this.#socket;
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const onAbort = () => this.#shutdown();
    this.#signal.addEventListener('abort', onAbort, { once: true });
    this.#handshake = setTimeout(() => this.#handshakeExpired(), this.#options.handshakeTimeoutMs);
    // Node only tracks header deadlines for servers that "listen"; this one is fed sockets instead.
    this.#server.emit('listening');
    this.#server.emit('connection', socket);
    if (this.#signal.aborted) this.#shutdown();
    try {
      await closed;
      // Results of responses that just ended are logged before the session ends; a request still
      // held for review is not waited for (it logs its own outcome when the hold ends).
      await this.#requests.settled(1_000);
    } finally {
      clearTimeout(this.#handshake);
      this.#signal.removeEventListener('abort', onAbort);
      this.#server.close();
      this.#agent.destroy();
    }
    if (this.#end !== undefined) await this.#ctx.session.end(this.#end.reason, this.#end.detail);
  }

  #enqueue(req: IncomingMessage, res: ServerResponse): void {
    this.#requests.pushRequest(res, () => this.#respond(req, res));
  }

  async #respond(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { session } = this.#ctx;
    const method = req.method ?? '';
    // A body left unread on the wire cannot be skipped safely: answer, then close.
    const close = (): boolean => !req.complete || this.#requests.shuttingDown;
    if (this.#requests.shuttingDown) {
      sendError(res, 503, ErrorCode.ShuttingDown, 'the gateway is shutting down', { close: true });
      return;
    }
    const badMethod = checkMethod(method);
    if (badMethod !== undefined) {
      sendError(res, 405, HttpErrorCode.MethodNotAllowed, badMethod, { close: close() });
      return;
    }
    if (req.headers.upgrade !== undefined) {
      const message = 'protocol upgrades (WebSocket, h2c) are not supported through the gateway';
      sendError(res, 501, HttpErrorCode.UpgradeNotSupported, message, { close: true });
      return;
    }
    if (headerCount(req.rawHeaders, 'authorization') > 1) {
      sendError(res, 400, HttpErrorCode.BadRequest, 'more than one Authorization header', { close: true });
      return;
    }

    const auth = await this.#auth.check(req.headers.authorization);
    if (!auth.ok) {
      const challenge =
        auth.tokenPresented && auth.status === 401 ? 'Bearer error="invalid_token"' : 'Bearer';
      sendError(res, auth.status, auth.code, auth.message, {
        close: auth.close || close(),
        ...(auth.status === 401 ? { headers: { 'www-authenticate': challenge } } : {}),
      });
      if (auth.endReason !== undefined) this.#end = { reason: auth.endReason, detail: auth.message };
      return;
    }
    clearTimeout(this.#handshake);

    const target = checkRequestTarget(req.url ?? '');
    if (!target.ok) {
      const message = `request target refused: ${target.reason}`;
      // Worth a trace: a non-canonical path is how policy bypasses are attempted.
      await session
        .annotate({ refused: HttpErrorCode.NonCanonicalPath, method, reason: target.reason }, [auth.token])
        .catch(() => undefined);
      sendError(res, 400, HttpErrorCode.NonCanonicalPath, message, { close: close() });
      return;
    }

    const text = `${method} ${target.path}${target.query === undefined ? '' : `?${target.query}`}`;
    // The query stays in the text: it is part of what was asked (and audited); the caller's token
    // is redacted from it should it appear there.
    const command = httpRequest(text, { method, path: target.path, headers: headerNames(req.rawHeaders) });
    let ticket: CommandTicket;
    try {
      ticket = await this.#execute(command, [auth.token, ...this.#secrets]);
    } catch (err) {
      const error = toGatewayError(err);
      const message =
        error.code === ErrorCode.LogUnavailable
          ? `the session log cannot record this request, so it was not forwarded: ${error.message}`
          : error.message;
      sendError(res, executeErrorStatus(error), error.code, message, { close: close() });
      return;
    }
    if (req.socket.destroyed) {
      session.result(ticket, {
        status: 'error',
        summary: 'not forwarded',
        error: { code: 'client_closed', message: 'the client went away before the request was forwarded' },
      });
      return;
    }

    if (/^100-continue$/i.test(req.headers.expect ?? '') && !res.headersSent) res.writeContinue();
    const outcome = await forward({
      req,
      res,
      upstream: this.#upstream,
      agent: this.#agent,
      path: upstreamPath(this.#upstream.basePath, target.path, target.query),
      clientAddress: session.info.clientAddress,
      masker: session.masker(),
      timeoutMs: this.#options.upstreamTimeoutMs,
      maxJsonTokenChars: this.#options.maxJsonTokenChars,
      closeAfter: () => this.#requests.shuttingDown,
    });
    session.result(ticket, {
      status: outcome.error === undefined && outcome.status > 0 && outcome.status < 500 ? 'ok' : 'error',
      summary: String(outcome.status),
      bytes: outcome.bytes,
      data: { status: outcome.status, requestBytes: outcome.requestBytes },
      ...(outcome.error === undefined ? {} : { error: outcome.error }),
    });
  }

  /** `session.execute`, but a request held for review gives way to a gateway shutdown. */
  #execute(command: HttpRequestCommand, secrets: readonly string[]): Promise<CommandTicket> {
    const { session } = this.#ctx;
    const held = session.execute(command, secrets);
    if (this.#signal.aborted) held.catch(() => undefined);
    const stop = new Promise<never>((_, reject) => {
      const onAbort = () =>
        reject(
          new GatewayError(
            ErrorCode.ShuttingDown,
            'the gateway is shutting down; the request was not forwarded',
          ),
        );
      if (this.#signal.aborted) return onAbort();
      this.#signal.addEventListener('abort', onAbort, { once: true });
      held.finally(() => this.#signal.removeEventListener('abort', onAbort)).catch(() => undefined);
    });
    // If the hold outlives the connection, say in the log that the approved request never ran.
    stop.catch(() => {
      held.then(
        (ticket) =>
          session.result(ticket, {
            status: 'error',
            summary: 'not forwarded',
            error: {
              code: ErrorCode.ShuttingDown,
              message: 'approved after the gateway began shutting down',
            },
          }),
        () => undefined,
      );
    });
    return Promise.race([held, stop]);
  }

  #shutdown(): void {
    // Idle keep-alive connections go now; busy ones close after their response (Connection: close).
    this.#requests.shutdown();
  }

  #handshakeExpired(): void {
    if (this.#auth.subject !== undefined || this.#socket.destroyed) return;
    const detail = `no authenticated request within ${this.#options.handshakeTimeoutMs}ms`;
    this.#end = { reason: 'handshake-timeout', detail };
    if (this.#requests.active === 0 && this.#socket.writable) {
      this.#socket.end(rawErrorResponse(408, ErrorCode.Timeout, detail));
    }
    setTimeout(() => this.#socket.destroy(), 200).unref();
  }

  #clientError(err: NodeJS.ErrnoException, socket: Socket): void {
    const code = err.code ?? '';
    if (code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    let status = 400;
    let errorCode: string = ErrorCode.Protocol;
    let message = `malformed HTTP request (${code || err.message})`;
    if (code === 'HPE_HEADER_OVERFLOW') {
      status = 431;
      errorCode = HttpErrorCode.HeadersTooLarge;
      message = `request headers exceed ${this.#options.maxHeaderBytes} bytes`;
    } else if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      status = 408;
      errorCode = ErrorCode.Timeout;
      message = `request headers not received within ${this.#options.handshakeTimeoutMs}ms`;
    }
    if (this.#end === undefined) {
      const first = this.#auth.subject === undefined;
      this.#end =
        status === 408
          ? { reason: first ? 'handshake-timeout' : 'idle-timeout', detail: message }
          : { reason: 'protocol-error', detail: message };
    }
    // A response in progress cannot be followed by another one on the same bytes.
    if (this.#requests.active === 0) socket.end(rawErrorResponse(status, errorCode, message));
    else socket.destroy();
  }
}
