/**
 * The only JWS algorithms a token may be signed with. Symmetric algorithms (HS*) are excluded
 * because a verifier that accepts them can be fooled into using a public key as an HMAC secret;
 * `none` is excluded because it is no signature at all.
 */
export const ASYMMETRIC_ALGORITHMS: readonly string[] = Object.freeze([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
]);

const allowed = new Set(ASYMMETRIC_ALGORITHMS);

export function isAsymmetricAlgorithm(alg: unknown): alg is string {
  return typeof alg === 'string' && allowed.has(alg);
}
