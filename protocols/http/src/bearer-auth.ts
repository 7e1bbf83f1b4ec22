import { createHash } from 'node:crypto';
import {
  type Clock,
  type EndReason,
  ErrorCode,
  type GatewaySession,
  type Identity,
  isGatewayError,
  type TokenVerifier,
} from '@gatehouse/core';
import { HttpErrorCode } from './responses.js';

export type AuthOutcome =
  | { readonly ok: true; readonly identity: Identity; readonly token: string }
  | {
      readonly ok: false;
      readonly status: 401 | 403 | 503;
      readonly code: string;
      readonly message: string;
      /** Whether a token was presented (RFC 6750 then wants `error="invalid_token"`). */
      readonly tokenPresented: boolean;
      /** Close the connection after answering. */
      readonly close: boolean;
      /** Set when the failure ends the session (the connection never authenticated). */
      readonly endReason?: EndReason;
    };

interface CachedToken {
  readonly identity: Identity;
  readonly expiresAt: number | undefined;
}

const MAX_TOKEN_CHARS = 16 * 1024;

/** The token of `Authorization: Bearer <token>`, or undefined. */
export function parseBearer(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  const token = match?.[1];
  return token !== undefined && token.length <= MAX_TOKEN_CHARS ? token : undefined;
}

function tokenKey(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/**
 * Bearer authentication for one connection. The first token authenticates the session; every
 * later request must carry a token of the same subject. Tokens already accepted are remembered by
 * hash until they expire, so a client sending the same token on every request is verified and
 * logged once, yet an expired token is never accepted.
 */
export class BearerAuth {
  readonly #session: GatewaySession;
  readonly #verifier: TokenVerifier;
  readonly #clock: Clock;
  readonly #maxCached: number;
  readonly #cache = new Map<string, CachedToken>();
  #lastToken = '';
  #lastKey = '';
  #subject: string | undefined;

  constructor(session: GatewaySession, verifier: TokenVerifier, clock: Clock, maxCached = 16) {
    this.#session = session;
    this.#verifier = verifier;
    this.#clock = clock;
    this.#maxCached = maxCached;
  }

  /** The subject this connection authenticated as, once it has. */
  get subject(): string | undefined {
    return this.#subject;
  }

  async check(authorization: string | undefined): Promise<AuthOutcome> {
    const token = parseBearer(authorization);
    if (token === undefined) {
      const message =
        authorization === undefined
          ? 'missing bearer token (send Authorization: Bearer <token>)'
          : 'the Authorization header is not a bearer token';
      return this.#fail(401, HttpErrorCode.Unauthenticated, message, authorization !== undefined, false);
    }
    // Clients send the same token on every request: its hash is computed once.
    if (token !== this.#lastToken) {
      this.#lastToken = token;
      this.#lastKey = tokenKey(token);
    }
    const key = this.#lastKey;
    const now = this.#clock.now().getTime();
    const hit = this.#cache.get(key);
    if (hit !== undefined && (hit.expiresAt === undefined || now < hit.expiresAt)) {
      // Another cached token of the same subject may have been used since; make this one's
      // identity (its groups) the session's again, which is logged like any authentication.
      if (this.#session.identity === hit.identity) return { ok: true, identity: hit.identity, token };
    }
    this.#cache.delete(key);
    return this.#authenticate(token, key, now);
  }

  async #authenticate(token: string, key: string, now: number): Promise<AuthOutcome> {
    const subject = this.#subject;
    if (subject !== undefined) {
      // Checked before the session sees the token, so another subject's token never becomes
      // the session's identity, not even for a moment.
      const presented = await this.#verifier.verify(token).catch(() => undefined);
      if (presented !== undefined && presented.subject !== subject) {
        const message = `the token is for "${presented.subject}" but this connection authenticated as "${subject}"`;
        await this.#session
          .annotate({ auth: 'rejected', method: 'bearer', reason: message }, [token])
          .catch(() => undefined);
        return this.#fail(401, HttpErrorCode.Unauthenticated, message, true, true);
      }
    }
    let identity: Identity;
    try {
      identity = await this.#session.authenticate(token, { method: 'bearer' });
    } catch (err) {
      const first = subject === undefined;
      if (isGatewayError(err, ErrorCode.LogUnavailable)) {
        return this.#fail(
          503,
          err.code,
          `the session log cannot record the authentication: ${err.message}`,
          true,
          first,
        );
      }
      const message = err instanceof Error ? err.message : 'token verification failed';
      if (isGatewayError(err, ErrorCode.AccessDenied)) {
        return this.#fail(
          403,
          ErrorCode.AccessDenied,
          message,
          true,
          first,
          first ? 'access-denied' : undefined,
        );
      }
      return this.#fail(
        401,
        HttpErrorCode.Unauthenticated,
        message,
        true,
        first,
        first ? 'auth-failed' : undefined,
      );
    }
    if (subject !== undefined && identity.subject !== subject) {
      return this.#fail(
        401,
        HttpErrorCode.Unauthenticated,
        'token subject changed on this connection',
        true,
        true,
      );
    }
    this.#subject = identity.subject;
    const expiresAt = identity.expiresAt?.getTime();
    if (expiresAt !== undefined && expiresAt <= now) {
      return this.#fail(401, HttpErrorCode.Unauthenticated, 'token expired', true, false);
    }
    if (this.#cache.size >= this.#maxCached) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    this.#cache.set(key, { identity, expiresAt });
    return { ok: true, identity, token };
  }

  #fail(
    status: 401 | 403 | 503,
    code: string,
    message: string,
    tokenPresented: boolean,
    close: boolean,
    endReason?: EndReason,
  ): AuthOutcome {
    return { ok: false, status, code, message, tokenPresented, close, ...(endReason ? { endReason } : {}) };
  }
}
