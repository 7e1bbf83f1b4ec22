import {
  type Agent,
  type ClientRequest,
  type IncomingMessage,
  request,
  type ServerResponse,
} from 'node:http';
import { request as secureRequest } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ErrorCode, type Masker } from '@gatehouse/core';
import { clientResponseHeaders, upstreamRequestHeaders } from './headers.js';
import { MaskingLimitError } from './json-masker.js';
import { decompressorFor, maskStreamFor } from './mask-stream.js';
import { maskingPlan, responseHasBody } from './masking-plan.js';
import { relayBody } from './relay-body.js';
import { HttpErrorCode, sendError } from './responses.js';
import type { UpstreamTarget } from './upstream.js';

export interface ForwardInput {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly upstream: UpstreamTarget;
  readonly agent: Agent;
  /** Upstream request-target (base path joined). */
  readonly path: string;
  readonly clientAddress: string;
  readonly masker: Masker;
  readonly timeoutMs: number;
  readonly maxJsonTokenChars: number;
  /** Asked when the response starts: true once the gateway is shutting down. */
  readonly closeAfter: () => boolean;
}

export interface ForwardOutcome {
  /** Status sent to the client (the gateway's own 502/504 when the upstream failed). */
  readonly status: number;
  /** Response body bytes sent to the client, after masking. */
  readonly bytes: number;
  /** Request body bytes read from the client. */
  readonly requestBytes: number;
  readonly error?: { readonly code: string; readonly message: string };
}

class UpstreamTimeout extends Error {}

function stageError(err: NodeJS.ErrnoException): { code: string; message: string } {
  if (err instanceof MaskingLimitError) return { code: 'masking_limit', message: err.message };
  const code = err.code ?? '';
  if (code.startsWith('Z_') || code.startsWith('ERR__')) {
    return { code: ErrorCode.Upstream, message: `the upstream sent a corrupt compressed body (${code})` };
  }
  return { code: 'masking_failed', message: `masking failed: ${err.message}` };
}

/** What an upstream failure before the response means for the client, without internals. */
function describeUpstreamError(
  err: NodeJS.ErrnoException,
  timeoutMs: number,
): { status: number; code: string; message: string } {
  if (err instanceof UpstreamTimeout) {
    return {
      status: 504,
      code: HttpErrorCode.UpstreamTimeout,
      message: `the upstream did not answer within ${Math.round(timeoutMs / 100) / 10}s`,
    };
  }
  const why: Record<string, string> = {
    ECONNREFUSED: 'the upstream refused the connection',
    ECONNRESET: 'the upstream closed the connection before answering',
    EPIPE: 'the upstream closed the connection before answering',
    ENOTFOUND: 'the upstream host name could not be resolved',
    EAI_AGAIN: 'the upstream host name could not be resolved',
    EHOSTUNREACH: 'the upstream host is unreachable',
    ENETUNREACH: 'the upstream network is unreachable',
    ETIMEDOUT: 'connecting to the upstream timed out',
  };
  const code = err.code ?? '';
  const message =
    why[code] ??
    (code.startsWith('ERR_TLS') ||
    code.includes('CERT') ||
    code.startsWith('DEPTH_ZERO') ||
    code.startsWith('SELF_SIGNED')
      ? `the upstream TLS certificate was rejected (${code})`
      : `the upstream request failed${code === '' ? '' : ` (${code})`}`);
  return { status: code === 'ETIMEDOUT' ? 504 : 502, code: ErrorCode.Upstream, message };
}

/**
 * Forwards one judged request and streams the response back, masked where its type calls for it.
 * Resolves once the client response is finished or abandoned; never rejects.
 */
export function forward(input: ForwardInput): Promise<ForwardOutcome> {
  const { req, res, upstream } = input;
  const method = req.method ?? 'GET';
  let status = 0;
  let bytes = 0;
  let requestBytes = 0;
  let error: { code: string; message: string } | undefined;

  return new Promise<ForwardOutcome>((resolve) => {
    let upReq: ClientRequest | undefined;
    let upSocket: Socket | undefined;
    let timedOut = false;
    // When a response breaks mid-body, whichever side's socket closed first is the cause: tearing
    // down the pipeline then closes the other one.
    let firstClosed: 'client' | 'upstream' | undefined;
    const clientClosed = () => {
      firstClosed ??= 'client';
    };
    const upstreamClosed = () => {
      firstClosed ??= 'upstream';
    };
    req.socket.once('close', clientClosed);
    res.once('close', () => {
      req.socket.off('close', clientClosed);
      upSocket?.off('close', upstreamClosed);
      if (!res.writableFinished) {
        if (error === undefined && firstClosed === 'upstream') {
          error = {
            code: timedOut ? HttpErrorCode.UpstreamTimeout : ErrorCode.Upstream,
            message: timedOut
              ? 'the upstream stalled in the middle of the response'
              : 'the upstream closed the connection in the middle of the response',
          };
        }
        error ??= {
          code: 'client_closed',
          message: 'the client closed the connection before the response ended',
        };
        upReq?.destroy();
      }
      resolve({ status, bytes, requestBytes, ...(error === undefined ? {} : { error }) });
    });

    const fail = (httpStatus: number, code: string, message: string): void => {
      error = { code, message };
      req.unpipe();
      if (res.headersSent) {
        res.destroy();
        return;
      }
      status = httpStatus;
      // A request body the upstream never took is still on the wire: close rather than read it.
      sendError(res, httpStatus, code, message, { close: !req.complete || input.closeAfter() });
    };

    const options = {
      hostname: upstream.hostname,
      port: upstream.port,
      method,
      path: input.path,
      agent: input.agent,
      timeout: input.timeoutMs,
      headers: upstreamRequestHeaders({
        rawHeaders: req.rawHeaders,
        clientAddress: input.clientAddress,
        clientProto: 'http',
        upstreamHost: upstream.host,
        configured: upstream.headers,
      }),
    };
    try {
      upReq = upstream.secure ? secureRequest(options) : request(options);
    } catch (err) {
      fail(502, ErrorCode.Upstream, `the upstream request could not be built: ${(err as Error).message}`);
      return;
    }
    const sent = upReq;
    sent.on('socket', (socket) => {
      upSocket = socket;
      socket.once('close', upstreamClosed);
    });
    sent.on('timeout', () => {
      timedOut = true;
      sent.destroy(new UpstreamTimeout());
    });
    sent.on('error', (err: NodeJS.ErrnoException) => {
      if (status !== 0 && res.headersSent) return; // the response pipeline reports its own failure
      const d = describeUpstreamError(err, input.timeoutMs);
      fail(d.status, d.code, d.message);
    });
    sent.on('response', (upRes) => {
      if (res.destroyed) {
        upRes.destroy();
        return;
      }
      status = upRes.statusCode ?? 502;
      const plan = responseHasBody(method, status)
        ? maskingPlan(upRes.headers['content-type'], upRes.headers['content-encoding'])
        : ({ kind: 'none' } as const);
      if (plan.kind === 'refuse') {
        upRes.destroy();
        fail(502, ErrorCode.Upstream, plan.reason);
        return;
      }
      const rewrite = plan.kind !== 'none';
      const decode = rewrite ? plan.decode : undefined;
      const headers = clientResponseHeaders(upRes.rawHeaders, {
        bodyRewritten: rewrite,
        decoded: decode !== undefined,
      });
      if (input.closeAfter()) headers['connection'] = 'close';
      res.writeHead(status, headers);
      const stages: Duplex[] = [];
      if (decode !== undefined) stages.push(decompressorFor(decode));
      if (rewrite) stages.push(maskStreamFor(plan, input.masker, input.maxJsonTokenChars));
      // The gateway's own stages fail before any socket closes, so their errors are recorded as
      // they happen; broken sockets are attributed on 'close'.
      for (const stage of stages) stage.once('error', (err) => (error ??= stageError(err)));
      relayBody(upRes, stages, res, (n) => {
        bytes += n;
      });
    });

    req.on('data', (chunk: Buffer) => {
      requestBytes += chunk.length;
    });
    // Backpressure both ways: pipe pauses the client while the upstream is slow to take the body.
    req.pipe(sent);
  });
}
