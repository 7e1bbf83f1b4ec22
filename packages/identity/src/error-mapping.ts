import { AuthError } from '@gatehouse/core';
import { errors } from 'jose';
import { KeySourceError } from './key-source.js';
import { printable } from './printable.js';
import { rejection } from './rejection.js';

export interface RejectionContext {
  readonly issuer: string;
  readonly kid: unknown;
}

/**
 * Turns whatever jose or a key source threw into one AuthError with a specific message. jose's own
 * messages are not passed through verbatim where a clearer one exists, and nothing from the token
 * other than a sanitised `kid` is ever quoted.
 */
export function toRejection(err: unknown, context: RejectionContext): AuthError {
  if (err instanceof AuthError) return err;
  const issuer = context.issuer;
  if (err instanceof KeySourceError) {
    return rejection('keys_unavailable', `signing keys unavailable for issuer ${issuer}: ${err.message}`, {
      issuer,
      cause: err,
    });
  }
  if (err instanceof errors.JWTExpired) return rejection('expired', 'token expired', { issuer });
  if (err instanceof errors.JWTClaimValidationFailed) return claimRejection(err, issuer);
  if (err instanceof errors.JOSEAlgNotAllowed) {
    return rejection('algorithm_not_allowed', 'signature algorithm not allowed', { issuer });
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return rejection('signature_invalid', 'signature invalid', { issuer });
  }
  if (err instanceof errors.JWKSNoMatchingKey) {
    const which = context.kid === undefined ? 'a token without kid' : `kid ${printable(context.kid)}`;
    return rejection('no_signing_key', `no signing key available for ${which} from issuer ${issuer}`, {
      issuer,
    });
  }
  if (err instanceof errors.JWKSTimeout) {
    return rejection(
      'keys_unavailable',
      `signing keys unavailable for issuer ${issuer}: JWKS fetch timed out`,
      {
        issuer,
        cause: err,
      },
    );
  }
  if (err instanceof errors.JWKSInvalid || err instanceof errors.JWKInvalid) {
    return rejection('keys_unavailable', `signing keys unavailable for issuer ${issuer}: ${err.message}`, {
      issuer,
      cause: err,
    });
  }
  if (
    err instanceof errors.JWSInvalid ||
    err instanceof errors.JWTInvalid ||
    err instanceof errors.JOSENotSupported
  ) {
    // jose's messages here describe structure ("JWS Protected Header is invalid"), never content.
    return rejection('malformed', `malformed token: ${err.message}`, { issuer, cause: err });
  }
  return rejection('malformed', 'token could not be verified', { issuer, cause: err });
}

function claimRejection(
  err: InstanceType<typeof errors.JWTClaimValidationFailed>,
  issuer: string,
): AuthError {
  switch (err.claim) {
    case 'nbf':
      if (err.reason === 'check_failed') return rejection('not_yet_valid', 'token not yet valid', { issuer });
      break;
    case 'aud':
      return rejection('audience_not_accepted', 'audience not accepted', { issuer });
    case 'iss':
      return rejection('issuer_not_trusted', 'issuer not trusted', { issuer });
    case 'exp':
      if (err.reason === 'missing') {
        return rejection('claim_invalid', 'token has no expiry (exp claim required)', { issuer });
      }
      break;
  }
  const problem = err.reason === 'missing' ? 'missing' : 'invalid';
  return rejection('claim_invalid', `token claim ${printable(err.claim, 40)} ${problem}`, { issuer });
}
