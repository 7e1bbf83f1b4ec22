import type { JWTVerifyGetKey } from 'jose';

/** Where the verification keys of one issuer come from. */
export interface KeySource {
  /** Key resolver handed to jose's `jwtVerify`; refetches on an unknown `kid` within its cooldown. */
  readonly getKey: JWTVerifyGetKey;
  close(): void;
}

/** Shared by every source of one verifier. */
export interface KeySourceContext {
  readonly cooldownMs: number;
  readonly fetchTimeoutMs: number;
  /** Aborted when the verifier is closed, so that no fetch outlives it. */
  readonly signal: AbortSignal;
}

/**
 * Keys could not be obtained (endpoint down, bad document, discovery mismatch). Verification then
 * fails closed; the message names the URL or file but never anything from the token.
 */
export class KeySourceError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeySourceError';
  }
}

/**
 * Remembers the last failure so that a dead endpoint is asked at most once per cooldown: a stream
 * of tokens must not turn into a stream of requests against an IdP that is already down.
 */
export class FailureBackoff {
  private failure: { at: number; message: string } | undefined;

  constructor(private readonly cooldownMs: number) {}

  /** Throws the remembered failure while the cooldown runs. */
  check(): void {
    if (this.failure === undefined) return;
    const waitMs = this.failure.at + this.cooldownMs - Date.now();
    if (waitMs > 0) {
      throw new KeySourceError(`${this.failure.message} (next attempt in ${Math.ceil(waitMs / 1000)} s)`);
    }
  }

  failed(error: KeySourceError): void {
    this.failure = { at: Date.now(), message: error.message };
  }

  succeeded(): void {
    this.failure = undefined;
  }
}
