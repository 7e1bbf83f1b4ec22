export { ASYMMETRIC_ALGORITHMS } from './algorithms.js';
export {
  createDevTokenEndpoint,
  type DevClient,
  type TokenAnswer,
  type TokenEndpoint,
  type TokenErrorCode,
  type TokenRequest,
} from './client-credentials.js';
export {
  DEV_ISSUER_DEFAULT_AUDIENCE,
  DEV_ISSUER_DEFAULT_ISSUER,
  DEV_TOKEN_DEFAULT_TTL_MS,
  DEV_TOKEN_MAX_TTL_MS,
  type DevIssuer,
  type DevIssuerOptions,
  type DevTokenRequest,
  devIssuerKeyPath,
  loadDevIssuer,
  loadOrCreateDevIssuer,
} from './dev-issuer.js';
export { DEFAULT_GROUPS_CLAIM } from './groups-claim.js';
export type { TokenRejectionReason } from './rejection.js';
export { MAX_TOKEN_BYTES } from './token-shape.js';
export { type ClosableTokenVerifier, createTokenVerifier } from './token-verifier.js';
export type { ProviderOptions, VerifierOptions } from './verifier-options.js';
