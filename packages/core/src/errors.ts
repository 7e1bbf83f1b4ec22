/**
 * One error family for the whole gateway. Every failure that can reach a client or an operator is a
 * GatewayError with a stable code; protocol modules map codes to their native error form
 * (PostgreSQL SQLSTATE, SSH exit status, Kubernetes Status, HTTP status).
 */
export const ErrorCode = {
  /** Malformed or out-of-bounds bytes from a peer. */
  Protocol: 'protocol_error',
  /** The caller could not be authenticated (bad, expired or missing token). */
  AuthFailed: 'auth_failed',
  /** The caller is authenticated but not allowed to use this connection. */
  AccessDenied: 'access_denied',
  /** A policy rule denied the command. */
  PolicyDenied: 'policy_denied',
  /** A review was rejected by an approver. */
  ApprovalDenied: 'approval_denied',
  /** A review was not answered in time. */
  ApprovalTimeout: 'approval_timeout',
  /** The upstream could not be reached, refused us, or failed mid-session. */
  Upstream: 'upstream_error',
  /** The session log could not record the event; strict mode refuses the command. */
  LogUnavailable: 'log_unavailable',
  /** The configuration is invalid. */
  Config: 'config_invalid',
  /** A deadline passed (handshake, connect, idle). */
  Timeout: 'timeout',
  /** The gateway is shutting down. */
  ShuttingDown: 'shutting_down',
  /** A bug or an unexpected failure. */
  Internal: 'internal_error',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface GatewayErrorOptions {
  cause?: unknown;
  /** Extra machine-readable details. Never put secrets here: details reach logs. */
  details?: Readonly<Record<string, unknown>>;
}

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.details = options.details ?? {};
  }
}

/** Thrown by pure parsers on malformed input; the only error a fuzzer may see from them. */
export class ProtocolError extends GatewayError {
  constructor(message: string, options: GatewayErrorOptions = {}) {
    super(ErrorCode.Protocol, message, options);
    this.name = 'ProtocolError';
  }
}

export class AuthError extends GatewayError {
  constructor(
    message: string,
    options: GatewayErrorOptions & {
      code?: typeof ErrorCode.AuthFailed | typeof ErrorCode.AccessDenied;
    } = {},
  ) {
    super(options.code ?? ErrorCode.AuthFailed, message, options);
    this.name = 'AuthError';
  }
}

export class PolicyDeniedError extends GatewayError {
  readonly ruleId: string | undefined;
  constructor(
    message: string,
    options: GatewayErrorOptions & {
      ruleId?: string;
      code?:
        | typeof ErrorCode.PolicyDenied
        | typeof ErrorCode.ApprovalDenied
        | typeof ErrorCode.ApprovalTimeout;
    } = {},
  ) {
    super(options.code ?? ErrorCode.PolicyDenied, message, options);
    this.name = 'PolicyDeniedError';
    this.ruleId = options.ruleId;
  }
}

export class UpstreamError extends GatewayError {
  constructor(message: string, options: GatewayErrorOptions = {}) {
    super(ErrorCode.Upstream, message, options);
    this.name = 'UpstreamError';
  }
}

export class LogWriteError extends GatewayError {
  constructor(message: string, options: GatewayErrorOptions = {}) {
    super(ErrorCode.LogUnavailable, message, options);
    this.name = 'LogWriteError';
  }
}

export class ConfigError extends GatewayError {
  /** Config file the problem is in, when known. */
  readonly file: string | undefined;
  /** Key path such as `connections[0].listen`. */
  readonly path: string | undefined;
  constructor(message: string, options: GatewayErrorOptions & { file?: string; path?: string } = {}) {
    super(ErrorCode.Config, message, options);
    this.name = 'ConfigError';
    this.file = options.file;
    this.path = options.path;
  }
}

/** Turns anything thrown into a GatewayError, keeping the original as `cause`. */
export function toGatewayError(err: unknown, fallback: ErrorCode = ErrorCode.Internal): GatewayError {
  if (err instanceof GatewayError) return err;
  if (err instanceof Error) return new GatewayError(fallback, err.message, { cause: err });
  return new GatewayError(fallback, typeof err === 'string' ? err : 'unknown error', { cause: err });
}

export function isGatewayError(err: unknown, code?: ErrorCode): err is GatewayError {
  return err instanceof GatewayError && (code === undefined || err.code === code);
}
