import type { NormalizeContext } from './normalize-context.js';
import type { KeyPath } from './problems.js';
import {
  ASYMMETRIC_ALGORITHMS,
  type AsymmetricAlgorithm,
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
}

export interface RawIdentity {
  providers?: RawProvider[];
  groupsClaim?: string;
  clockTolerance?: string;
  devIssuer?: Partial<DevIssuerConfig>;
}

const KEY_SOURCES = ['discovery', 'discoveryUrl', 'jwksUri', 'jwksFile'] as const;

export function normalizeIdentity(raw: RawIdentity, ctx: NormalizeContext): IdentityConfig {
  const groupsClaim = raw.groupsClaim ?? 'groups';
  const devIssuer: DevIssuerConfig = {
    enabled: raw.devIssuer?.enabled ?? false,
    issuer: raw.devIssuer?.issuer ?? 'urn:gatehouse:dev',
    audience: raw.devIssuer?.audience ?? 'gatehouse',
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
  return {
    providers,
    groupsClaim,
    clockToleranceMs: ctx.duration(['identity', 'clockTolerance'], raw.clockTolerance, 30_000),
    devIssuer,
  };
}

function normalizeProvider(
  raw: RawProvider,
  path: KeyPath,
  groupsClaim: string,
  ctx: NormalizeContext,
): IdentityProviderConfig {
  // `discovery: false` is the same as leaving it out.
  const given = KEY_SOURCES.filter((k) =>
    k === 'discovery' ? raw.discovery === true : raw[k] !== undefined,
  );
  let keys: ProviderKeySource = { source: 'discovery', discoveryUrl: discoveryUrlFor(raw.issuer) };
  if (given.length !== 1) {
    ctx.add(
      path,
      given.length === 0
        ? 'give one key source: discovery: true, discoveryUrl, jwksUri or jwksFile'
        : `give only one key source, not ${given.join(' and ')}`,
    );
  } else if (raw.discoveryUrl !== undefined) {
    keys = { source: 'discovery', discoveryUrl: ctx.httpUrl([...path, 'discoveryUrl'], raw.discoveryUrl) };
  } else if (raw.jwksUri !== undefined) {
    keys = { source: 'jwks', jwksUri: ctx.httpUrl([...path, 'jwksUri'], raw.jwksUri) };
  } else if (raw.jwksFile !== undefined) {
    keys = { source: 'file', jwksFile: ctx.path(raw.jwksFile) };
  } else {
    ctx.httpUrl([...path, 'issuer'], raw.issuer);
  }
  return {
    issuer: raw.issuer,
    audience: typeof raw.audience === 'string' ? [raw.audience] : raw.audience,
    keys,
    algorithms: raw.algorithms ?? [...ASYMMETRIC_ALGORITHMS],
    groupsClaim: raw.groupsClaim ?? groupsClaim,
  };
}

/** OIDC Discovery 1.0 §4: the issuer with `/.well-known/openid-configuration` appended. */
function discoveryUrlFor(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
}
