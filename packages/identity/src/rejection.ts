import { AuthError } from '@gatehouse/core';

/**
 * Machine-readable reason a token was refused, carried in `AuthError.details.reason` so that the
 * audit trail and metrics can group failures without parsing messages.
 */
export type TokenRejectionReason =
  | 'malformed'
  | 'too_large'
  | 'issuer_not_trusted'
  | 'algorithm_not_allowed'
  | 'signature_invalid'
  | 'no_signing_key'
  | 'keys_unavailable'
  | 'expired'
  | 'not_yet_valid'
  | 'audience_not_accepted'
  | 'claim_invalid'
  | 'verifier_closed';

/**
 * Builds the AuthError for a refused token. Messages are written by this package only and never
 * embed the token or any slice of it; values read from the token are passed through `printable`.
 */
export function rejection(
  reason: TokenRejectionReason,
  message: string,
  extra: { issuer?: string | undefined; cause?: unknown } = {},
): AuthError {
  const details: Record<string, unknown> = { reason };
  if (extra.issuer !== undefined) details['issuer'] = extra.issuer;
  return new AuthError(message, { details, cause: extra.cause });
}
