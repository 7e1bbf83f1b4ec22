import { rejection } from './rejection.js';

/** Tokens larger than this are refused before any parsing; real OIDC tokens are a few KiB. */
export const MAX_TOKEN_BYTES = 16 * 1024;

// Three base64url segments; an empty third segment is let through so that `alg: none` tokens get
// the specific "algorithm not allowed" answer rather than a generic one.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export interface InspectedToken {
  readonly header: Readonly<Record<string, unknown>>;
  /** Claims before verification: only good for routing, never for decisions. */
  readonly unverifiedClaims: Readonly<Record<string, unknown>>;
}

/**
 * Cheap structural checks done before any key lookup or network access, so that garbage and
 * oversized input cost nothing and get a precise message.
 */
export function inspectToken(token: unknown): InspectedToken {
  if (typeof token !== 'string') throw rejection('malformed', 'malformed token: not a string');
  if (token.length === 0) throw rejection('malformed', 'malformed token: empty');
  if (token.length > MAX_TOKEN_BYTES) {
    throw rejection('too_large', `token too large: more than ${MAX_TOKEN_BYTES} bytes`);
  }
  if (!COMPACT_JWS.test(token)) {
    const parts = token.split('.').length;
    const why =
      parts === 5
        ? 'encrypted tokens (JWE) are not accepted'
        : 'expected three dot-separated base64url segments (compact JWS)';
    throw rejection('malformed', `malformed token: ${why}`);
  }
  const [headerPart, payloadPart] = token.split('.') as [string, string, string];
  const header = decodeSegment(headerPart, 'header');
  const unverifiedClaims = decodeSegment(payloadPart, 'payload');
  return { header, unverifiedClaims };
}

function decodeSegment(segment: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw rejection('malformed', `malformed token: ${what} is not base64url-encoded JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw rejection('malformed', `malformed token: ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}
