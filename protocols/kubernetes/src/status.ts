/**
 * Kubernetes `Status` responses, the error form every Kubernetes client understands: kubectl
 * prints `Error from server (<reason>): <message>`.
 */
import { type ServerResponse, STATUS_CODES } from 'node:http';
import { ErrorCode, type GatewayError } from '@gatehouse/core';

export interface KubeStatus {
  readonly kind: 'Status';
  readonly apiVersion: 'v1';
  readonly metadata: Record<string, never>;
  readonly status: 'Failure';
  readonly message: string;
  readonly reason: string;
  readonly code: number;
}

/** The `reason` the API server uses with each status code. */
const REASONS: Readonly<Record<number, string>> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  408: 'Timeout',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  502: 'BadGateway',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

export function kubeStatus(code: number, message: string, reason = REASONS[code] ?? 'Unknown'): KubeStatus {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

export interface StatusReplyOptions {
  readonly close?: boolean;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Sends a Status; a response already under way is cut instead (its client sees a broken body). */
export function sendStatus(res: ServerResponse, status: KubeStatus, options: StatusReplyOptions = {}): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(status);
  res.writeHead(status.code, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-cache, private',
    ...(options.close === true ? { connection: 'close' } : {}),
    ...options.headers,
  });
  res.end(body);
}

/** A whole HTTP/1.1 response carrying a Status, for sockets outside an HTTP response (upgrades). */
export function rawStatusResponse(status: KubeStatus): string {
  const body = JSON.stringify(status);
  return (
    `HTTP/1.1 ${status.code} ${STATUS_CODES[status.code] ?? 'Error'}\r\n` +
    'Content-Type: application/json\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Cache-Control: no-cache, private\r\n' +
    'Connection: close\r\n\r\n' +
    body
  );
}

/** The Status for an error thrown by `session.execute` (deny, review refused or expired, log down). */
export function executeErrorStatus(error: GatewayError): KubeStatus {
  switch (error.code) {
    case ErrorCode.PolicyDenied:
    case ErrorCode.ApprovalDenied:
    case ErrorCode.ApprovalTimeout:
    case ErrorCode.AccessDenied:
      return kubeStatus(403, error.message, 'Forbidden');
    case ErrorCode.AuthFailed:
      return kubeStatus(401, error.message, 'Unauthorized');
    case ErrorCode.LogUnavailable:
      return kubeStatus(
        503,
        `the session log cannot record this request, so it was not forwarded: ${error.message}`,
        'ServiceUnavailable',
      );
    case ErrorCode.ShuttingDown:
      return kubeStatus(503, error.message, 'ServiceUnavailable');
    default:
      return kubeStatus(500, error.message, 'InternalError');
  }
}
