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
  /*
   * What a consumer masking many values (a database result) asks to skip work. Only the policy
   * can answer these correctly; the policy engine's maskers always do. They are optional so that
   * a masker wrapping another one need not answer: a consumer then assumes the worst (every
   * column may be covered, every text may hold a finding) — slower or over-masked, never leaking.
   */
  /**
   * False only when `maskText` would certainly return the text held by `bytes[start, end)` (UTF-8;
   * Latin-1 gives the same answer) unchanged: a cheap prefilter, true whenever in doubt.
   */
  mayDetect?(bytes: Uint8Array, start: number, end: number): boolean;
  /**
   * Whether a column rule covers `column` (its full name or its last dotted part, as `maskValue`
   * matches it), i.e. whether `maskValue(column, text)` masks a non-empty value as a whole.
   */
  coversColumn?(column: string): boolean;
  /** Whether any column rule applies to this identity on this connection. */
  readonly hasColumnRules?: boolean;
  /** Whether any detector (built-in or custom) is enabled; false: `maskText` changes nothing. */
  readonly hasDetectors?: boolean;
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
