import type { NormalizeContext } from './normalize-context.js';
import type { KeyPath } from './problems.js';
import {
  ASYMMETRIC_ALGORITHMS,
  type AsymmetricAlgorithm,
  type DevIssuerClientConfig,
  type DevIssuerConfig,
  type IdentityConfig,
  type IdentityProviderConfig,
  type ProviderKeySource,
} from './types.js';

export interface RawProvider {
  issuer: string;
  audience: string | string[];
  discovery?: boolean;
  discoveryUrl?: string;
  jwksUri?: string;
  jwksFile?: string;
  algorithms?: AsymmetricAlgorithm[];
  groupsClaim?: string;
  allowInsecureHttp?: boolean;
}

export interface RawDevClient {
  id: string;
  secret: string;
  subject?: string;
  groups?: string[];
  ttl?: string;
}

export interface RawIdentity {
  providers?: RawProvider[];
  groupsClaim?: string;
  clockTolerance?: string;
  devIssuer?: { enabled?: boolean; issuer?: string; audience?: string; clients?: RawDevClient[] };
}

const KEY_SOURCES = ['discovery', 'discoveryUrl', 'jwksUri', 'jwksFile'] as const;
const MAX_CLOCK_TOLERANCE_MS = 300_000;
const DEV_TOKEN_TTL_MS = 15 * 60_000;
/** The development issuer's own bounds on a token's lifetime. */
const MIN_DEV_TOKEN_TTL_MS = 1_000;
const MAX_DEV_TOKEN_TTL_MS = 24 * 60 * 60_000;
const MIN_CLIENT_SECRET_CHARS = 16;

export function normalizeIdentity(raw: RawIdentity, ctx: NormalizeContext): IdentityConfig {
  const groupsClaim = raw.groupsClaim ?? 'groups';
  const enabled = raw.devIssuer?.enabled ?? false;
  const devIssuer: DevIssuerConfig = {
    enabled,
    issuer: raw.devIssuer?.issuer ?? 'urn:gatehouse:dev',
    audience: raw.devIssuer?.audience ?? 'gatehouse',
    clients: normalizeDevClients(raw.devIssuer?.clients ?? [], enabled, ctx),
  };
  const providers = (raw.providers ?? []).map((p, i) =>
    normalizeProvider(p, ['identity', 'providers', i], groupsClaim, ctx),
  );
  // Two trust roots for one issuer would make "which keys verify this token" ambiguous.
  const seen = new Map<string, string>();
  if (devIssuer.enabled) seen.set(devIssuer.issuer, 'identity.devIssuer.issuer');
  providers.forEach((p, i) => {
    const other = seen.get(p.issuer);
    if (other !== undefined) {
      ctx.add(
        ['identity', 'providers', i, 'issuer'],
        `issuer ${ctx.show(p.issuer)} is already configured at ${other}`,
      );
    } else {
      seen.set(p.issuer, `identity.providers[${i}].issuer`);
    }
  });
  const clockToleranceMs = ctx.duration(['identity', 'clockTolerance'], raw.clockTolerance, 30_000);
  if (clockToleranceMs > MAX_CLOCK_TOLERANCE_MS) {
    ctx.add(
      ['identity', 'clockTolerance'],
      'must be at most 5m: a longer tolerance keeps expired tokens alive',
    );
  }
  return { providers, groupsClaim, clockToleranceMs, devIssuer };
}

function normalizeDevClients(
  raw: readonly RawDevClient[],
  enabled: boolean,
  ctx: NormalizeContext,
): DevIssuerClientConfig[] {
  const path: KeyPath = ['identity', 'devIssuer', 'clients'];
  // Registered first, so that no message below can quote a secret.
  for (const client of raw) ctx.secret(client.secret);
  if (raw.length > 0 && !enabled) {
    ctx.add(path, 'clients get tokens from the development issuer: set identity.devIssuer.enabled: true');
  }
  const ids = new Set<string>();
  return raw.map((client, i) => {
    if (ids.has(client.id)) ctx.add([...path, i, 'id'], `client id ${ctx.show(client.id)} is given twice`);
    ids.add(client.id);
    if (client.secret.length < MIN_CLIENT_SECRET_CHARS) {
      ctx.add(
        [...path, i, 'secret'],
        `must be at least ${MIN_CLIENT_SECRET_CHARS} characters: anyone who guesses it gets tokens`,
      );
    }
    const ttlMs = ctx.duration([...path, i, 'ttl'], client.ttl, DEV_TOKEN_TTL_MS);
    if (ttlMs < MIN_DEV_TOKEN_TTL_MS || ttlMs > MAX_DEV_TOKEN_TTL_MS) {
      ctx.add([...path, i, 'ttl'], 'must be between 1s and 24h');
    }
    return {
      id: client.id,
      secret: client.secret,
      subject: client.subject ?? client.id,
      groups: client.groups ?? [],
      ttlMs,
    };
  });
}

function normalizeProvider(
  raw: RawProvider,
  path: KeyPath,
  groupsClaim: string,
  ctx: NormalizeContext,
): IdentityProviderConfig {
  const allowInsecureHttp = raw.allowInsecureHttp ?? false;
  // `discovery: false` is the same as leaving it out.
  const given = KEY_SOURCES.filter((k) =>
    k === 'discovery' ? raw.discovery === true : raw[k] !== undefined,
  );
  if (given.length !== 1) {
    ctx.add(
      path,
      given.length === 0
        ? 'give one key source: discovery: true, discoveryUrl, jwksUri or jwksFile'
        : `give only one key source, not ${given.join(' and ')}`,
    );
  }
  const fetched = (key: 'issuer' | 'discoveryUrl' | 'jwksUri', value: string) =>
    checkFetchUrl([...path, key], value, allowInsecureHttp, ctx);
  let keys: ProviderKeySource = { source: 'discovery', discoveryUrl: discoveryUrlFor(raw.issuer) };
  if (given.length !== 1) {
    // Reported above; the placeholder is never returned to a caller.
  } else if (raw.discoveryUrl !== undefined) {
    keys = { source: 'discovery', discoveryUrl: fetched('discoveryUrl', raw.discoveryUrl) };
  } else if (raw.jwksUri !== undefined) {
    keys = { source: 'jwks', jwksUri: fetched('jwksUri', raw.jwksUri) };
  } else if (raw.jwksFile !== undefined) {
    keys = { source: 'file', jwksFile: ctx.path(raw.jwksFile) };
  } else {
    fetched('issuer', raw.issuer);
  }
  return {
    issuer: raw.issuer,
    audience: typeof raw.audience === 'string' ? [raw.audience] : raw.audience,
    keys,
    algorithms: raw.algorithms ?? [...ASYMMETRIC_ALGORITHMS],
    groupsClaim: raw.groupsClaim ?? groupsClaim,
    allowInsecureHttp,
  };
}

/** OIDC Discovery 1.0 §4: the issuer with `/.well-known/openid-configuration` appended. */
function discoveryUrlFor(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/**
 * Keys fetched over plain http can be swapped by anyone on the path, who could then mint tokens;
 * only loopback (a local IdP in development) is exempt unless the file says otherwise.
 */
function checkFetchUrl(
  path: KeyPath,
  value: string,
  allowInsecureHttp: boolean,
  ctx: NormalizeContext,
): string {
  ctx.httpUrl(path, value);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return value;
  }
  if (url.protocol === 'http:' && !allowInsecureHttp && !LOOPBACK.test(url.hostname)) {
    ctx.add(
      path,
      'plain http to a non-loopback host lets others substitute signing keys: use https, or set allowInsecureHttp: true',
    );
  }
  return value;
}
