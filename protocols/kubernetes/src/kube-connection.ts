/**
 * Serves one client connection: TLS with the gateway's certificate, HTTP/1.1 on top, one gateway
 * session for the connection and one judged, audited request after another on it. Exec, attach
 * and port-forward upgrades are handed to upgrade.ts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Agent } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type SecureContext, TLSSocket } from 'node:tls';
import {
  type CommandTicket,
  type ConnectionContext,
  type EndReason,
  ErrorCode,
  GatewayError,
  type Masker,
  toGatewayError,
} from '@gatehouse/core';
import { BearerAuth, RequestQueue } from '@gatehouse/http';
import { forward } from './forward.js';
import type { KubernetesOptions } from './options.js';
import { checkPatchBody } from './patch-body.js';
import {
  carriesSecrets,
  isPodStream,
  requestAttributes,
  requestCommand,
  type ShellAnalyzer,
  secretValuesDecision,
} from './request-command.js';
import { clientHeadersForUpstream, readableAccept } from './request-headers.js';
import { parseRequestInfo, type RequestInfo, requestPath } from './request-info/index.js';
import { SecretMasker, writesMaskBack } from './secret-masker.js';
import { executeErrorStatus, kubeStatus, sendStatus } from './status.js';
import { handleUpgrade } from './upgrade.js';
import { type KubeUpstream, upstreamAgent } from './upstream.js';

export interface ConnectionDeps {
  readonly upstream: KubeUpstream;
  readonly secureContext: SecureContext;
  readonly options: KubernetesOptions;
  readonly analyzeShell: ShellAnalyzer;
}

export interface JudgedTarget {
  readonly info: RequestInfo;
  /** `/canonical/path?query` as judged, and as forwarded. */
  readonly target: string;
  readonly text: string;
}

/** Secret values shorter than this are not worth redacting from the log. */
const MIN_SECRET_LENGTH = 8;

export class KubeConnection {
  readonly ctx: ConnectionContext;
  readonly deps: ConnectionDeps;
  readonly signal: AbortSignal;
  readonly auth: BearerAuth;
  readonly #socket: Socket;
  readonly #server: Server;
  #agent: Agent | undefined;
  readonly #requests: RequestQueue;
  #handshake: NodeJS.Timeout | undefined;
  readonly #maskers = new WeakMap<Masker, [SecretMasker, SecretMasker]>();
  end: { reason: EndReason; detail: string } | undefined;

  constructor(socket: Socket, ctx: ConnectionContext, signal: AbortSignal, deps: ConnectionDeps) {
    this.#socket = socket;
    this.ctx = ctx;
    this.deps = deps;
    this.signal = signal;
    this.auth = new BearerAuth(ctx.session, ctx.verifier, ctx.clock);
    this.#requests = new RequestQueue(socket, (error, res) => {
      this.ctx.logger.error({ err: error.message }, 'kubernetes request handling failed');
      if (res !== undefined)
        sendStatus(res, kubeStatus(500, 'the gateway failed to handle the request'), { close: true });
    });
    const o = deps.options;
    this.#server = createServer(
      {
        maxHeaderSize: o.maxHeaderBytes,
        headersTimeout: o.handshakeTimeoutMs,
        requestTimeout: 0,
        keepAliveTimeout: o.keepAliveTimeoutMs,
        connectionsCheckingInterval: Math.min(1_000, o.handshakeTimeoutMs),
      },
      (req, res) => this.#requests.pushRequest(res, () => this.#respond(req, res)),
    );
    this.#server.on('upgrade', (req: IncomingMessage, s: Duplex, head: Buffer) => {
      this.#requests.push(() => handleUpgrade(this, req, s, head), undefined);
    });
    this.#server.on('clientError', (err: NodeJS.ErrnoException, s: Duplex) => {
      if (err.code === 'ECONNRESET' || !s.writable) return void s.destroy();
      this.end ??= {
        reason: 'protocol-error',
        detail: `malformed HTTP request (${err.code ?? err.message})`,
      };
      if (this.#requests.active === 0)
        s.end(`HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      else s.destroy();
    });
  }

  get shuttingDown(): boolean {
    return this.#requests.shuttingDown;
  }

  /** Resolves when the client connection is closed. */
  async run(): Promise<void> {
    const raw = this.#socket;
    const closed = new Promise<void>((resolve) => raw.once('close', () => resolve()));
    const tls = new TLSSocket(raw, {
      isServer: true,
      secureContext: this.deps.secureContext,
      ALPNProtocols: ['http/1.1'],
    });
    tls.on('error', (err: NodeJS.ErrnoException) => {
      if (!tls.encrypted || this.auth.subject === undefined) {
        this.end ??= {
          reason: 'protocol-error',
          detail: `TLS handshake failed (${err.code ?? err.message})`,
        };
      }
      raw.destroy();
    });
    const onAbort = () => this.#shutdown();
    this.signal.addEventListener('abort', onAbort, { once: true });
    this.#handshake = setTimeout(() => this.#handshakeExpired(tls), this.deps.options.handshakeTimeoutMs);
    this.#server.emit('listening');
    this.#server.emit('connection', tls);
    raw.resume();
    if (this.signal.aborted) this.#shutdown();
    try {
      await closed;
      await this.#requests.settled(1_000);
    } finally {
      clearTimeout(this.#handshake);
      this.signal.removeEventListener('abort', onAbort);
      this.#server.close();
      this.#agent?.destroy();
    }
    if (this.end !== undefined) await this.ctx.session.end(this.end.reason, this.end.detail);
  }

  authenticated(): void {
    clearTimeout(this.#handshake);
  }

  /** The keep-alive agent for this connection's upstream requests, made with fresh credentials. */
  agent(tls: Parameters<typeof upstreamAgent>[0]): Agent {
    this.#agent ??= upstreamAgent(tls, this.deps.options.keepAliveTimeoutMs);
    return this.#agent;
  }

  /** Parses and classifies the request target; a refusal is answered by the caller. */
  judgeTarget(req: IncomingMessage): JudgedTarget | { error: string } {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const query = q === -1 ? '' : url.slice(q + 1);
    let info: RequestInfo;
    try {
      if (!path.startsWith('/'))
        throw new GatewayError(ErrorCode.Protocol, 'the request target is not an absolute path');
      info = parseRequestInfo({ method: req.method ?? '', path, query });
    } catch (err) {
      return { error: toGatewayError(err).message };
    }
    const target = `${requestPath(info)}${query === '' ? '' : `?${query}`}`;
    return { info, target, text: `${req.method} ${target}` };
  }

  secrets(token: string, upstreamSecrets: readonly string[]): string[] {
    return [token, ...upstreamSecrets.filter((s) => s.length >= MIN_SECRET_LENGTH)];
  }

  /** `session.execute`, but a request held for review gives way to a gateway shutdown. */
  execute(
    command: Parameters<ConnectionContext['session']['execute']>[0],
    secrets: readonly string[],
    signal?: AbortSignal,
  ): Promise<CommandTicket> {
    const { session } = this.ctx;
    const held = session.execute(
      command,
      secrets,
      signal === undefined ? this.signal : AbortSignal.any([signal, this.signal]),
    );
    const stop = new Promise<never>((_, reject) => {
      const onAbort = () =>
        reject(
          new GatewayError(
            ErrorCode.ShuttingDown,
            'the gateway is shutting down; the request was not forwarded',
          ),
        );
      if (this.signal.aborted) return onAbort();
      this.signal.addEventListener('abort', onAbort, { once: true });
      held.finally(() => this.signal.removeEventListener('abort', onAbort)).catch(() => undefined);
    });
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

  async #respond(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { session } = this.ctx;
    const close = (): boolean => !req.complete || this.#requests.shuttingDown;
    if (this.#requests.shuttingDown)
      return sendStatus(res, kubeStatus(503, 'the gateway is shutting down'), { close: true });
    if (req.headers.upgrade !== undefined) {
      return sendStatus(res, kubeStatus(400, 'an Upgrade header without Connection: upgrade'), {
        close: true,
      });
    }
    const auth = await this.auth.check(req.headers.authorization);
    if (!auth.ok) {
      sendStatus(res, kubeStatus(auth.status, auth.message), { close: auth.close || close() });
      if (auth.endReason !== undefined) this.end = { reason: auth.endReason, detail: auth.message };
      return;
    }
    this.authenticated();
    const judged = this.judgeTarget(req);
    if ('error' in judged) {
      await session
        .annotate({ refused: 'non_canonical_request', method: req.method, reason: judged.error }, [
          auth.token,
        ])
        .catch(() => undefined);
      return sendStatus(res, kubeStatus(400, judged.error), { close: close() });
    }
    const { info, target, text } = judged;
    if (isPodStream(info)) {
      // What the API server answers too: these subresources are served over an upgrade only.
      return sendStatus(res, kubeStatus(400, 'Upgrade request required'), { close: close() });
    }
    const accept = readableAccept(req.headers.accept);
    if (accept === undefined) {
      return sendStatus(
        res,
        kubeStatus(
          406,
          'the gateway masks responses and serves them as JSON: ask for application/json (protobuf, CBOR and YAML are not forwarded)',
        ),
        { close: close() },
      );
    }
    const headers = clientHeadersForUpstream(req.rawHeaders, accept);
    const upstream = await this.deps.upstream.credentials();
    const secrets = this.secrets(auth.token, upstream.secrets);

    // Bodies that must be read before the decision: patches (must decode) and Secret writes (must
    // not store a masked value back).
    const secretWrite = carriesSecrets(info) && ['POST', 'PUT', 'PATCH'].includes(req.method ?? '');
    let body: Buffer | undefined;
    let patchType: string | undefined;
    if (req.method === 'PATCH' || secretWrite) {
      if ((req.headers['content-encoding'] ?? 'identity') !== 'identity') {
        return sendStatus(res, kubeStatus(415, 'the gateway reads request bodies uncompressed'), {
          close: close(),
        });
      }
      const read = await readBody(req, this.deps.options.maxPatchBytes);
      if (read === undefined) {
        return sendStatus(
          res,
          kubeStatus(413, `the request body exceeds ${this.deps.options.maxPatchBytes} bytes`),
          { close: true },
        );
      }
      body = read;
      if (req.method === 'PATCH') {
        const check = checkPatchBody(req.headers['content-type'], body);
        if (!check.ok) return sendStatus(res, kubeStatus(check.code, check.message), { close: close() });
        patchType = check.type;
      }
      if (secretWrite && writesMaskBack(body)) {
        return sendStatus(
          res,
          kubeStatus(
            422,
            'the request would store a value the gateway masked (MASKED/BY/GATEHOUSE/) in a Secret; send the real values, not a copy of a masked read',
          ),
          { close: close() },
        );
      }
    }

    const identity = session.identity;
    const reveal =
      carriesSecrets(info) && identity !== undefined
        ? secretValuesDecision(this.ctx.policy, this.ctx.connection.name, identity, requestAttributes(info))
        : undefined;
    const attributes = requestAttributes(info, {
      ...(patchType === undefined ? {} : { patchType }),
      ...(reveal === undefined
        ? {}
        : { secretValues: reveal.reveal ? `unmasked by rule ${reveal.ruleId}` : 'masked' }),
      ...(headers.removed.length === 0 ? {} : { strippedHeaders: headers.removed }),
    });
    const command = requestCommand(text, attributes);
    let ticket: CommandTicket;
    try {
      ticket = await this.execute(command, secrets);
    } catch (err) {
      return sendStatus(res, executeErrorStatus(toGatewayError(err)), { close: close() });
    }
    if (req.socket.destroyed) {
      session.result(ticket, {
        status: 'error',
        summary: 'not forwarded',
        error: { code: 'client_closed', message: 'the client went away before the request was forwarded' },
      });
      return;
    }
    const masker = this.#masker(reveal !== undefined && !reveal.reveal);
    const outcome = await forward({
      req,
      res,
      upstream: this.deps.upstream,
      credentials: upstream,
      agent: this.agent(upstream.tls),
      path: `${this.deps.upstream.basePath}${target}`,
      rawHeaders: headers.rawHeaders,
      body,
      clientAddress: session.info.clientAddress,
      masker,
      mustMask: reveal !== undefined && !reveal.reveal,
      timeoutMs: this.deps.options.upstreamTimeoutMs,
      maxJsonTokenChars: this.deps.options.maxJsonTokenChars,
      closeAfter: () => this.#requests.shuttingDown,
      stream: info.isResourceRequest && (info.verb === 'watch' || info.follow === true),
    });
    session.result(ticket, {
      status: outcome.error === undefined && outcome.status > 0 && outcome.status < 400 ? 'ok' : 'error',
      summary: String(outcome.status),
      bytes: outcome.bytes,
      data: { status: outcome.status, requestBytes: outcome.requestBytes },
      ...(outcome.error === undefined ? {} : { error: outcome.error }),
    });
  }

  /**
   * The response masker, made once per policy masker (the identity may change on a refreshed
   * token): the JSON masker remembers field paths per masker object, across responses.
   */
  #masker(maskSecretValues: boolean): SecretMasker {
    const inner = this.ctx.session.masker();
    let pair = this.#maskers.get(inner);
    if (pair === undefined) {
      pair = [new SecretMasker(inner, { maskSecretValues: false }), new SecretMasker(inner)];
      this.#maskers.set(inner, pair);
    }
    return pair[maskSecretValues ? 1 : 0];
  }

  #shutdown(): void {
    this.#requests.shutdown();
  }

  #handshakeExpired(tls: TLSSocket): void {
    if (this.auth.subject !== undefined || this.#socket.destroyed) return;
    const detail = `no authenticated request within ${this.deps.options.handshakeTimeoutMs}ms`;
    this.end = { reason: 'handshake-timeout', detail };
    if (this.#requests.active === 0 && tls.encrypted && tls.writable) {
      const body = JSON.stringify(kubeStatus(408, detail, 'Timeout'));
      tls.end(
        `HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    setTimeout(() => this.#socket.destroy(), 200).unref();
  }
}

/** Reads a body up to `limit` bytes; undefined past it. */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
