/**
 * Forwards one judged request to the cluster and streams the answer back: JSON through the token
 * masker (Secret values, named fields, detectors), text (logs) through the detectors, nothing held
 * beyond the token or line being read, so watches, `logs -f` and large lists stream with
 * backpressure. Errors before the response are `Status` answers; a broken stream is cut. A 401
 * from the cluster is about the gateway's credentials, never the client's, and is answered as a
 * 502 saying so.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Agent, request } from 'node:https';
import { type Duplex, Writable } from 'node:stream';
import type { Masker } from '@gatehouse/core';
import {
  clientResponseHeaders,
  decompressorFor,
  MaskingLimitError,
  maskingPlan,
  maskStreamFor,
  relayBody,
  responseHasBody,
  upstreamRequestHeaders,
} from '@gatehouse/http';
import { kubeStatus, sendStatus } from './status.js';
import type { KubeUpstream, UpstreamCredentials } from './upstream.js';

export interface ForwardInput {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly upstream: KubeUpstream;
  readonly credentials: UpstreamCredentials;
  readonly agent: Agent;
  /** Request-target on the upstream: base path, canonical path, query. */
  readonly path: string;
  /** Client headers already stripped of impersonation, with the readable Accept. */
  readonly rawHeaders: readonly string[];
  /** A body read already (patches, Secret writes); otherwise the request streams. */
  readonly body: Buffer | undefined;
  readonly clientAddress: string;
  readonly masker: Masker;
  /** The response may carry Secret values: anything the gateway cannot read is refused. */
  readonly mustMask: boolean;
  readonly timeoutMs: number;
  readonly maxJsonTokenChars: number;
  readonly closeAfter: () => boolean;
  /** A watch or a followed log: the response headers go out at once, before any event. */
  readonly stream: boolean;
  /**
   * A watch: if the cluster cuts it between two events, the client gets an `ERROR` event with a
   * `Status` and a cleanly ended stream, as the API server itself ends a failed watch, instead of a
   * cut connection (which client-go takes for a watch that simply ended: `kubectl get -w` would exit
   * 0 without a word).
   */
  readonly watch?: boolean;
}

/** The watch event the API server sends when a watch fails; one JSON line. */
export function watchErrorEvent(code: number, message: string): string {
  return `${JSON.stringify({ type: 'ERROR', object: kubeStatus(code, message) })}\n`;
}

const WATCH_CUT = 'the cluster closed the connection in the middle of the watch';

/**
 * The client end of a relayed body: writes into `res` with backpressure. Destroyed before the body
 * has ended (the cluster cut it, or a stage failed), it cuts `res` too — unless `onCut` answers
 * with a last piece to send and end the response with.
 */
function responseSink(
  res: ServerResponse,
  onCut: (lastByte: number | undefined) => string | undefined,
): Writable {
  let lastByte: number | undefined;
  const sink = new Writable({
    write(chunk: Buffer, _enc, callback) {
      if (chunk.length > 0) lastByte = chunk[chunk.length - 1];
      if (res.write(chunk)) callback();
      else res.once('drain', () => callback());
    },
    final(callback) {
      res.end(() => callback());
    },
    destroy(err, callback) {
      if (!res.writableEnded && !res.destroyed) {
        const last = onCut(lastByte);
        if (last === undefined) res.destroy();
        else res.end(last);
      }
      callback(err);
    },
  });
  // The client leaving stops the relay.
  res.once('close', () => {
    if (!sink.destroyed) sink.destroy();
  });
  return sink;
}

export interface ForwardOutcome {
  readonly status: number;
  readonly bytes: number;
  readonly requestBytes: number;
  readonly error?: { readonly code: string; readonly message: string };
}

function describeUpstreamError(err: NodeJS.ErrnoException, timedOut: boolean, timeoutMs: number) {
  if (timedOut)
    return { status: 504, message: `the cluster did not answer within ${Math.round(timeoutMs / 100) / 10}s` };
  const code = err.code ?? '';
  const why: Record<string, string> = {
    ECONNREFUSED: 'the cluster refused the connection',
    ECONNRESET: 'the cluster closed the connection before answering',
    EPIPE: 'the cluster closed the connection before answering',
    ENOTFOUND: "the cluster's host name could not be resolved",
    EAI_AGAIN: "the cluster's host name could not be resolved",
    EHOSTUNREACH: 'the cluster is unreachable',
    ETIMEDOUT: 'connecting to the cluster timed out',
  };
  const tls =
    code.startsWith('ERR_TLS') ||
    code.includes('CERT') ||
    code.startsWith('DEPTH_ZERO') ||
    code.startsWith('SELF_SIGNED');
  const message =
    why[code] ??
    (tls
      ? `the cluster's TLS certificate was rejected (${code})`
      : `the request to the cluster failed${code === '' ? '' : ` (${code})`}`);
  return { status: code === 'ETIMEDOUT' ? 504 : 502, message };
}

export function forward(input: ForwardInput): Promise<ForwardOutcome> {
  const { req, res, upstream } = input;
  const method = req.method ?? 'GET';
  let status = 0;
  let bytes = 0;
  let requestBytes = input.body?.length ?? 0;
  let error: { code: string; message: string } | undefined;

  return new Promise<ForwardOutcome>((resolve) => {
    let timedOut = false;
    let upstreamBroke = false;
    const timer = setTimeout(() => {
      timedOut = true;
      upReq.destroy(new Error('upstream timeout'));
    }, input.timeoutMs);
    res.once('close', () => {
      clearTimeout(timer);
      if (!res.writableFinished) {
        error ??= upstreamBroke
          ? {
              code: 'upstream_error',
              message: 'the cluster closed the connection in the middle of the response',
            }
          : { code: 'client_closed', message: 'the client closed the connection before the response ended' };
        upReq.destroy();
      }
      resolve({ status, bytes, requestBytes, ...(error === undefined ? {} : { error }) });
    });

    const fail = (code: number, errorCode: string, message: string): void => {
      error = { code: errorCode, message };
      req.unpipe();
      if (res.headersSent) {
        res.destroy();
        return;
      }
      status = code;
      sendStatus(res, kubeStatus(code, message), { close: !req.complete || input.closeAfter() });
    };

    const upReq = request({
      hostname: upstream.url.hostname.replace(/^\[|\]$/g, ''),
      port: upstream.url.port === '' ? 443 : Number(upstream.url.port),
      method,
      path: input.path,
      agent: input.agent,
      headers: upstreamRequestHeaders({
        rawHeaders: input.rawHeaders,
        clientAddress: input.clientAddress,
        clientProto: 'https',
        upstreamHost: upstream.host,
        configured: input.credentials.headers,
      }),
    });
    upReq.on('error', (err: NodeJS.ErrnoException) => {
      if (res.headersSent) {
        upstreamBroke = true;
        res.destroy();
        return;
      }
      const d = describeUpstreamError(err, timedOut, input.timeoutMs);
      fail(d.status, 'upstream_error', d.message);
    });
    upReq.on('response', (upRes) => {
      clearTimeout(timer);
      if (res.destroyed) {
        upRes.destroy();
        return;
      }
      status = upRes.statusCode ?? 502;
      if (status === 401) {
        // The client's token was accepted by the gateway and never reaches the cluster: a 401 is
        // about the gateway's own credentials. Relayed, it would tell the client to log in again
        // (and credential plugins to refresh and retry) for something only the operator can fix.
        upRes.resume();
        fail(
          502,
          'upstream_error',
          "the cluster refused the gateway's credentials (401 Unauthorized); the connection's upstream kubeconfig needs fixing",
        );
        return;
      }
      const plan = responseHasBody(method, status)
        ? maskingPlan(upRes.headers['content-type'], upRes.headers['content-encoding'])
        : ({ kind: 'none' } as const);
      if (
        plan.kind === 'refuse' ||
        (plan.kind === 'none' && input.mustMask && responseHasBody(method, status))
      ) {
        upRes.destroy();
        const why =
          plan.kind === 'refuse'
            ? plan.reason
            : `the cluster answered with ${upRes.headers['content-type'] ?? 'no content type'}, which the gateway cannot mask`;
        fail(502, 'upstream_error', `${why}; the response was not forwarded`);
        return;
      }
      const rewrite = plan.kind !== 'none';
      const decode = rewrite && plan.decode !== undefined ? decompressorFor(plan.decode) : undefined;
      const headers = clientResponseHeaders(upRes.rawHeaders, {
        bodyRewritten: rewrite,
        decoded: decode !== undefined,
      });
      if (input.closeAfter()) headers['connection'] = 'close';
      res.writeHead(status, headers);
      // Watches and log streams: headers now, so the client sees the stream has started. Other
      // responses send them with the first piece of the body, in one write.
      if (input.stream) res.flushHeaders();
      const stages: Duplex[] = [];
      if (decode !== undefined) stages.push(decode);
      if (plan.kind === 'json' || plan.kind === 'text')
        stages.push(maskStreamFor(plan, input.masker, input.maxJsonTokenChars));
      for (const stage of stages) {
        stage.once('error', (err: Error) => {
          error ??=
            err instanceof MaskingLimitError
              ? { code: 'masking_limit', message: err.message }
              : { code: 'masking_failed', message: `masking failed: ${err.message}` };
        });
      }
      // A listener on the upstream socket would pile up on a kept-alive connection; the message's own
      // close says whether it was cut short.
      upRes.once('close', () => {
        if (!upRes.complete) upstreamBroke = true;
      });
      const watchJson = input.watch === true && plan.kind === 'json';
      const sink = responseSink(res, (lastByte) => {
        // Only between two events (nothing sent yet, or the last event's newline), and only when
        // the cluster cut the stream: a failed masking stage must not be papered over.
        if (!watchJson || upRes.complete || error !== undefined) return undefined;
        if (lastByte !== undefined && lastByte !== 0x0a) return undefined;
        error = { code: 'upstream_error', message: WATCH_CUT };
        return watchErrorEvent(502, WATCH_CUT);
      });
      relayBody(upRes, stages, sink, (n) => {
        bytes += n;
      });
    });

    if (input.body !== undefined) {
      upReq.end(input.body);
    } else {
      req.on('data', (chunk: Buffer) => {
        requestBytes += chunk.length;
      });
      req.pipe(upReq);
    }
  });
}
