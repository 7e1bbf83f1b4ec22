import { ErrorCode, GatewayError, type GatewayErrorOptions } from '@gatehouse/core';

/**
 * Why an approval operation was refused. The admin API maps kinds to HTTP statuses:
 * not_found → 404, forbidden and self_approval → 403, conflict → 409, invalid → 400.
 * `cancelled` is what a held `request()` rejects with when its client went away.
 */
export type ApprovalErrorKind =
  | 'not_found'
  | 'forbidden'
  | 'self_approval'
  | 'conflict'
  | 'invalid'
  | 'cancelled';

// Core has no not-found or conflict codes; these operations come from authenticated admin callers
// who may not do what they asked, so access_denied is the nearest family. `kind` is the precise
// reason and is also copied into `details` so consumers need not import this class.
const CODES: Record<ApprovalErrorKind, ErrorCode> = {
  not_found: ErrorCode.AccessDenied,
  forbidden: ErrorCode.AccessDenied,
  self_approval: ErrorCode.AccessDenied,
  conflict: ErrorCode.AccessDenied,
  invalid: ErrorCode.AccessDenied,
  cancelled: ErrorCode.ApprovalTimeout,
};

export class ApprovalError extends GatewayError {
  readonly kind: ApprovalErrorKind;
  constructor(kind: ApprovalErrorKind, message: string, options: GatewayErrorOptions = {}) {
    super(CODES[kind], message, { ...options, details: { ...options.details, kind } });
    this.name = 'ApprovalError';
    this.kind = kind;
  }
}

export function isApprovalError(err: unknown, kind?: ApprovalErrorKind): err is ApprovalError {
  return err instanceof ApprovalError && (kind === undefined || err.kind === kind);
}
