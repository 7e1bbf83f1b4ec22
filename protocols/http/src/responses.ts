import { type ServerResponse, STATUS_CODES } from 'node:http';
import { ErrorCode, type GatewayError } from '@gatehouse/core';

/** Error codes in HTTP error bodies: the GatewayError codes, plus these HTTP-level ones. */
export const HttpErrorCode = {
  Unauthenticated: 'unauthenticated',
  NonCanonicalPath: 'non_canonical_path',
  BadRequest: 'bad_request',
  MethodNotAllowed: 'method_not_allowed',
  UpgradeNotSupported: 'upgrade_not_supported',
  UpstreamTimeout: 'upstream_timeout',
  HeadersTooLarge: 'headers_too_large',
} as const;

export function errorBody(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

export interface ErrorReplyOptions {
  /** Close the connection after this response (unread body, failed authentication, shutdown). */
  readonly close?: boolean;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Sends `{ error: { code, message } }`; if a response already started, cuts it instead. */
export function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  options: ErrorReplyOptions = {},
): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const body = errorBody(code, message);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...(options.close === true ? { connection: 'close' } : {}),
    ...options.headers,
  });
  res.end(body);
}

/** A whole HTTP/1.1 error response as raw text, for sockets no HTTP server owns (yet). */
export function rawErrorResponse(status: number, code: string, message: string, extra = ''): string {
  const body = errorBody(code, message);
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
    'Content-Type: application/json; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Cache-Control: no-store\r\n' +
    extra +
    'Connection: close\r\n\r\n' +
    body
  );
}

/** How a connection refused before hand-over is answered: 429 for per-source limits, 503 otherwise. */
export function rejectionStatus(error: GatewayError): number {
  return error.code === ErrorCode.AccessDenied ? 429 : 503;
}

/** Status for an error thrown by `session.execute`. */
export function executeErrorStatus(error: GatewayError): number {
  switch (error.code) {
    case ErrorCode.PolicyDenied:
    case ErrorCode.ApprovalDenied:
    case ErrorCode.ApprovalTimeout:
    case ErrorCode.AccessDenied:
      return 403;
    case ErrorCode.AuthFailed:
      return 401;
    case ErrorCode.LogUnavailable:
    case ErrorCode.ShuttingDown:
      return 503;
    default:
      return 500;
  }
}
