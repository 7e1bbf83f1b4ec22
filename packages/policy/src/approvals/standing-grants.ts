import type { Command, Identity } from '@gatehouse/core';
import type { ApprovalRequest } from './approval-types.js';

/** A window approval: the same command text, same identity, same connection, until `expiresAt`. */
export interface StandingGrant {
  readonly id: string;
  /** The approved request that created the grant. */
  readonly request: ApprovalRequest;
  readonly approver: string;
  readonly reason?: string | undefined;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  readonly expiresAt: number;
}

export interface GrantQuery {
  readonly connection: string;
  readonly identity: Identity;
  readonly command: Command;
}

/**
 * Grants held in memory only: a restart drops them, so after a restart every reviewed command is
 * reviewed again (fail closed) rather than trusting grants reconstructed from the log.
 */
export class StandingGrants {
  readonly #grants = new Map<string, StandingGrant>();

  add(grant: StandingGrant): void {
    this.#grants.set(grant.id, grant);
  }

  /**
   * The grant covering this exact command for this identity, if one is still open. Matching is on
   * the exact logged text (and protocol and kind): a grant for `DELETE FROM t WHERE id = 1` says
   * nothing about `DELETE FROM t`.
   */
  find(query: GrantQuery, nowMs: number): StandingGrant | undefined {
    this.prune(nowMs);
    for (const grant of this.#grants.values()) {
      const r = grant.request;
      if (
        r.connection === query.connection &&
        r.subject === query.identity.subject &&
        r.issuer === query.identity.issuer &&
        r.command.protocol === query.command.protocol &&
        r.command.kind === query.command.kind &&
        r.command.text === query.command.text
      ) {
        return grant;
      }
    }
    return undefined;
  }

  active(nowMs: number): StandingGrant[] {
    this.prune(nowMs);
    return [...this.#grants.values()];
  }

  prune(nowMs: number): void {
    for (const [id, grant] of this.#grants) if (grant.expiresAt <= nowMs) this.#grants.delete(id);
  }
}
