import type { ProtocolName } from '@gatehouse/core';

/** Where an approval request stands. `pending` is the only state a decision may move it out of. */
export type ApprovalState = 'pending' | 'approved' | 'denied' | 'expired' | 'cancelled';

export const APPROVAL_STATES: readonly ApprovalState[] = [
  'pending',
  'approved',
  'denied',
  'expired',
  'cancelled',
];

/**
 * How far an approval reaches. `once` lets the held command run; `window` also grants the same
 * command text, for the same identity on the same connection, until the window ends.
 */
export type ApprovalScope =
  | { readonly kind: 'once' }
  | { readonly kind: 'window'; readonly durationMs: number };

/** A held command as approvers, the admin API, the webhook and the session log see it. */
export interface ApprovalRequest {
  /** Short and unguessable, e.g. `apr_k3j9x2m4qa`. */
  readonly id: string;
  readonly sessionId: string;
  readonly connection: string;
  readonly subject: string;
  readonly issuer: string;
  readonly groups: readonly string[];
  readonly command: { readonly protocol: ProtocolName; readonly kind: string; readonly text: string };
  /** The rule that asked for review, when one did (undefined when the default action applied). */
  readonly rule?: string | undefined;
  /** The rule's message for the requester. */
  readonly message?: string | undefined;
  /** ISO 8601 times. */
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly state: ApprovalState;
  /** Set once the request leaves `pending`. */
  readonly decidedAt?: string | undefined;
  /** Subject of the approver who approved or denied. */
  readonly approver?: string | undefined;
  /** Why: the approver's reason, or the gateway's for expiry and cancellation. */
  readonly reason?: string | undefined;
  /** For approved requests: how far the approval reaches. */
  readonly scope?: ApprovalScope | undefined;
  /** For window approvals: the standing grant created, and when it ends (ISO 8601). */
  readonly grant?: { readonly id: string; readonly until: string } | undefined;
}

export interface ApproveOptions {
  readonly reason?: string | undefined;
  readonly scope?: ApprovalScope | undefined;
}

export interface DenyOptions {
  readonly reason?: string | undefined;
}

export interface ApprovalListFilter {
  readonly state?: ApprovalState | undefined;
}
