import { type Clock, ConfigError } from '@gatehouse/core';
import { ASYMMETRIC_ALGORITHMS, isAsymmetricAlgorithm } from './algorithms.js';
import type { DevIssuer } from './dev-issuer.js';
import { DEFAULT_GROUPS_CLAIM } from './groups-claim.js';

/** One trusted OpenID Connect issuer. Exactly one key source must be given. */
export interface ProviderOptions {
  /** Must equal the token's `iss` exactly (no trailing-slash normalisation). */
  issuer: string;
  /** The token's `aud` must contain at least one of these. */
  audience: string | readonly string[];
  /** Fetch `${issuer}/.well-known/openid-configuration` and use its `jwks_uri`. */
  discovery?: boolean;
  /** Discovery document URL, for issuers that publish it elsewhere. */
  discoveryUrl?: string;
  /** JWKS URL, used directly without discovery. */
  jwksUri?: string;
  /** Path of a local JWKS JSON file; re-read on an unknown `kid`. */
  jwksFile?: string;
  /** Allowed signature algorithms; a subset of the asymmetric ones. Default: all asymmetric ones. */
  algorithms?: readonly string[];
  /** Claim holding the groups: a key, a dotted path or a URL-shaped key. Default `groups`. */
  groupsClaim?: string;
  /** Allow plain-http discovery/JWKS URLs to non-loopback hosts. Default false. */
  allowInsecureHttp?: boolean;
}

export interface VerifierOptions {
  providers: readonly ProviderOptions[];
  /** Leeway for `exp`/`nbf`, in seconds. Default 30, at most 300. */
  clockToleranceSec?: number;
  /** Minimum interval between JWKS (and failed discovery) fetches for one issuer. Default 30 000. */
  jwksCooldownMs?: number;
  /** Timeout of one discovery or JWKS fetch. Default 5 000. */
  fetchTimeoutMs?: number;
  /** Time source for `exp`/`nbf` checks. */
  clock?: Clock;
  /** Trust tokens from this development issuer. Leave unset in production. */
  devIssuer?: DevIssuer;
}

export type KeySourceSpec =
  | { readonly kind: 'discovery'; readonly url: URL; readonly allowInsecureHttp: boolean }
  | { readonly kind: 'jwks-uri'; readonly url: URL }
  | { readonly kind: 'jwks-file'; readonly path: string }
  | { readonly kind: 'dev-issuer'; readonly devIssuer: DevIssuer };

export interface ResolvedProvider {
  readonly issuer: string;
  readonly audience: readonly string[];
  readonly algorithms: readonly string[];
  readonly groupsClaim: string;
  readonly source: KeySourceSpec;
}

export interface ResolvedVerifierOptions {
  readonly providers: ReadonlyMap<string, ResolvedProvider>;
  readonly clockToleranceSec: number;
  readonly jwksCooldownMs: number;
  readonly fetchTimeoutMs: number;
}

export const MAX_CLOCK_TOLERANCE_SEC = 300;

/** Validates options up front so that a bad config fails at start, naming the key at fault. */
export function resolveVerifierOptions(options: VerifierOptions): ResolvedVerifierOptions {
  if (!Array.isArray(options.providers)) {
    throw new ConfigError('providers must be a list', { path: 'providers' });
  }
  const clockToleranceSec = number(
    options.clockToleranceSec,
    30,
    'clockToleranceSec',
    MAX_CLOCK_TOLERANCE_SEC,
  );
  const jwksCooldownMs = integer(options.jwksCooldownMs, 30_000, 'jwksCooldownMs');
  const fetchTimeoutMs = integer(options.fetchTimeoutMs, 5_000, 'fetchTimeoutMs');
  if (fetchTimeoutMs === 0)
    throw new ConfigError('fetchTimeoutMs must be positive', { path: 'fetchTimeoutMs' });

  const providers = new Map<string, ResolvedProvider>();
  const add = (provider: ResolvedProvider, path: string): void => {
    if (providers.has(provider.issuer)) {
      throw new ConfigError(`issuer ${JSON.stringify(provider.issuer)} is configured more than once`, {
        path,
      });
    }
    providers.set(provider.issuer, provider);
  };
  options.providers.forEach((provider, index) => {
    add(resolveProvider(provider, `providers[${index}]`), `providers[${index}].issuer`);
  });
  if (options.devIssuer !== undefined) add(resolveDevIssuer(options.devIssuer), 'devIssuer');
  if (providers.size === 0) {
    throw new ConfigError('no token issuer configured: add a provider (or a development issuer)', {
      path: 'providers',
    });
  }
  return { providers, clockToleranceSec, jwksCooldownMs, fetchTimeoutMs };
}

function resolveProvider(p: ProviderOptions, at: string): ResolvedProvider {
  if (typeof p !== 'object' || p === null) throw new ConfigError('provider must be an object', { path: at });
  if (typeof p.issuer !== 'string' || p.issuer.trim() === '') {
    throw new ConfigError('issuer must be a non-empty string', { path: `${at}.issuer` });
  }
  const audience = typeof p.audience === 'string' ? [p.audience] : p.audience;
  if (
    !Array.isArray(audience) ||
    audience.length === 0 ||
    !audience.every((a) => typeof a === 'string' && a !== '')
  ) {
    throw new ConfigError('audience must be a non-empty string or a non-empty list of strings', {
      path: `${at}.audience`,
    });
  }
  const groupsClaim = p.groupsClaim ?? DEFAULT_GROUPS_CLAIM;
  if (typeof groupsClaim !== 'string' || groupsClaim === '') {
    throw new ConfigError('groupsClaim must be a non-empty string', { path: `${at}.groupsClaim` });
  }
  return {
    issuer: p.issuer,
    audience: [...audience],
    algorithms: resolveAlgorithms(p.algorithms, `${at}.algorithms`),
    groupsClaim,
    source: resolveSource(p, at),
  };
}

function resolveSource(p: ProviderOptions, at: string): KeySourceSpec {
  for (const key of ['discovery', 'allowInsecureHttp'] as const) {
    if (p[key] !== undefined && typeof p[key] !== 'boolean') {
      throw new ConfigError(`${key} must be true or false`, { path: `${at}.${key}` });
    }
  }
  const given = [
    p.discovery === true ? 'discovery' : undefined,
    p.discoveryUrl !== undefined ? 'discoveryUrl' : undefined,
    p.jwksUri !== undefined ? 'jwksUri' : undefined,
    p.jwksFile !== undefined ? 'jwksFile' : undefined,
  ].filter((key) => key !== undefined);
  if (given.length !== 1) {
    const found = given.length === 0 ? 'none is set' : `found ${given.join(', ')}`;
    throw new ConfigError(
      `exactly one key source is required (discovery, discoveryUrl, jwksUri or jwksFile); ${found}`,
      { path: at },
    );
  }
  const allowInsecureHttp = p.allowInsecureHttp === true;
  if (p.jwksFile !== undefined) {
    if (typeof p.jwksFile !== 'string' || p.jwksFile === '') {
      throw new ConfigError('jwksFile must be a file path', { path: `${at}.jwksFile` });
    }
    return { kind: 'jwks-file', path: p.jwksFile };
  }
  if (p.jwksUri !== undefined) {
    return { kind: 'jwks-uri', url: fetchableUrl(p.jwksUri, allowInsecureHttp, `${at}.jwksUri`) };
  }
  const discoveryUrl = p.discoveryUrl ?? `${p.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  const key = p.discoveryUrl !== undefined ? 'discoveryUrl' : 'issuer';
  return {
    kind: 'discovery',
    url: fetchableUrl(discoveryUrl, allowInsecureHttp, `${at}.${key}`),
    allowInsecureHttp,
  };
}

/**
 * Keys fetched over plain http can be replaced by anyone on the path, which would let them mint
 * tokens; http is accepted only to loopback addresses unless the provider opts in explicitly.
 */
export function fetchableUrl(value: unknown, allowInsecureHttp: boolean, path: string): URL {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new ConfigError(`${JSON.stringify(value)} is not a valid URL`, { path });
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && (allowInsecureHttp || isLoopback(url.hostname))) return url;
  throw new ConfigError(
    `${url.href} must use https (plain http is allowed only to loopback addresses, or with allowInsecureHttp)`,
    { path },
  );
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

function resolveAlgorithms(value: readonly string[] | undefined, path: string): readonly string[] {
  if (value === undefined) return ASYMMETRIC_ALGORITHMS;
  if (!Array.isArray(value) || value.length === 0) {
    throw new ConfigError('algorithms must be a non-empty list', { path });
  }
  for (const alg of value) {
    if (!isAsymmetricAlgorithm(alg)) {
      throw new ConfigError(
        `algorithm ${JSON.stringify(alg)} is not allowed: only asymmetric algorithms ` +
          `(${ASYMMETRIC_ALGORITHMS.join(', ')}) are accepted; HS* and "none" never are`,
        { path },
      );
    }
  }
  return [...new Set(value)];
}

function resolveDevIssuer(devIssuer: DevIssuer): ResolvedProvider {
  const algorithms = devIssuer
    .publicJwks()
    .keys.map((key) => key.alg)
    .filter(isAsymmetricAlgorithm);
  if (algorithms.length === 0) {
    throw new ConfigError('the development issuer publishes no key with an asymmetric "alg"', {
      path: 'devIssuer',
    });
  }
  return {
    issuer: devIssuer.issuer,
    audience: [devIssuer.audience],
    algorithms: [...new Set(algorithms)],
    groupsClaim: DEFAULT_GROUPS_CLAIM,
    source: { kind: 'dev-issuer', devIssuer },
  };
}

function number(value: unknown, fallback: number, path: string, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max) {
    throw new ConfigError(`${path} must be a number between 0 and ${max}`, { path });
  }
  return value;
}

function integer(value: unknown, fallback: number, path: string): number {
  const n = number(value, fallback, path);
  if (!Number.isInteger(n)) throw new ConfigError(`${path} must be a whole number of milliseconds`, { path });
  return n;
}
