import { AuthError } from '@gatehouse/core';
import { expect } from 'vitest';
import type { TokenRejectionReason } from './rejection.js';

/**
 * Verifies that `promise` rejects with an AuthError whose message matches, and that neither the
 * message nor the details leak the token or any of its segments.
 */
export async function expectRejection(
  promise: Promise<unknown>,
  token: string,
  message: RegExp,
  reason?: TokenRejectionReason,
): Promise<AuthError> {
  const outcome = await promise.then(
    (value) => ({ resolved: value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.resolved)}`);
  const error = outcome.error;
  expect(error).toBeInstanceOf(AuthError);
  const authError = error as AuthError;
  expect(authError.message).toMatch(message);
  if (reason !== undefined) expect(authError.details['reason']).toBe(reason);
  expectNoLeak(authError, token);
  return authError;
}

export function expectNoLeak(error: Error & { details?: unknown }, token: string): void {
  const visible = `${error.message}\n${JSON.stringify(error.details ?? {})}`;
  // Short strings occur in any message by chance; real tokens and their segments are long.
  for (const part of [token, ...token.split('.')]) {
    if (part.length >= 16) expect(visible).not.toContain(part);
  }
}
