import type { Command, Decision } from './command.js';
import type { Identity } from './identity.js';

export interface PolicyInput {
  readonly connection: string;
  readonly identity: Identity;
  readonly command: Command;
}

export interface Masker {
  /** Masks one result value, knowing the column (or JSON field) it came from when known. */
  maskValue(column: string | undefined, text: string): string;
  /** Finds every detected sensitive span in free text and masks it. */
  maskText(text: string): string;
}

/** The one policy engine every protocol module calls. Pure and synchronous: no I/O. */
export interface PolicyEngine {
  decide(input: PolicyInput): Decision;
  masker(connection: string, identity: Identity): Masker;
}

export interface ApprovalRequestInput {
  readonly sessionId: string;
  readonly connection: string;
  readonly identity: Identity;
  readonly command: Command;
  readonly decision: Decision;
}

export type ApprovalOutcome =
  | { readonly status: 'approved'; readonly id: string; readonly approver: string; readonly reason?: string }
  | { readonly status: 'denied'; readonly id: string; readonly approver: string; readonly reason?: string }
  | { readonly status: 'expired'; readonly id: string };

/** Holds a reviewed command until an approver decides or the request times out. */
export interface ApprovalBroker {
  request(input: ApprovalRequestInput, signal?: AbortSignal): Promise<ApprovalOutcome>;
}
