import { type Clock, type Identity, systemClock, type TokenVerifier } from '@gatehouse/core';
import {
  errors,
  type CryptoKey as JoseCryptoKey,
  type JWTPayload,
  type JWTVerifyOptions,
  jwtVerify,
} from 'jose';
import { toRejection } from './error-mapping.js';
import { extractGroups } from './groups-claim.js';
import type { KeySource } from './key-source.js';
import { createKeySource } from './key-sources.js';
import { printable } from './printable.js';
import { rejection } from './rejection.js';
import { inspectToken } from './token-shape.js';
import { type ResolvedProvider, resolveVerifierOptions, type VerifierOptions } from './verifier-options.js';

interface Provider {
  readonly config: ResolvedProvider;
  readonly keys: KeySource;
  readonly verifyOptions: JWTVerifyOptions;
}

/** The verifier returned by `createTokenVerifier`; `close` aborts pending key fetches. */
export type ClosableTokenVerifier = TokenVerifier & { close(): void };

/**
 * Builds the verifier every protocol uses. Options are validated now (ConfigError); keys from
 * URLs are fetched on first use. Every failure of `verify` is an AuthError.
 */
export function createTokenVerifier(options: VerifierOptions): ClosableTokenVerifier {
  const resolved = resolveVerifierOptions(options);
  const clock: Clock = options.clock ?? systemClock;
  const closing = new AbortController();
  const context = {
    cooldownMs: resolved.jwksCooldownMs,
    fetchTimeoutMs: resolved.fetchTimeoutMs,
    signal: closing.signal,
  };
  const providers = new Map<string, Provider>();
  let index = 0;
  for (const [issuer, config] of resolved.providers) {
    const keys = createKeySource(config, context, `providers[${index++}]`);
    providers.set(issuer, {
      config,
      keys,
      verifyOptions: {
        issuer,
        audience: [...config.audience],
        algorithms: [...config.algorithms],
        clockTolerance: resolved.clockToleranceSec,
        requiredClaims: ['exp'],
      },
    });
  }

  const verify = async (token: string): Promise<Identity> => {
    if (closing.signal.aborted) throw rejection('verifier_closed', 'token verifier is closed');
    const { header, unverifiedClaims } = inspectToken(token);
    const iss = unverifiedClaims['iss'];
    const provider = typeof iss === 'string' ? providers.get(iss) : undefined;
    if (provider === undefined) {
      const named = iss === undefined ? 'token has no iss claim' : printable(iss);
      throw rejection('issuer_not_trusted', `issuer not trusted: ${named}`);
    }
    const issuer = provider.config.issuer;
    // Checked before jose so that a token with a refused algorithm never triggers a key fetch.
    if (typeof header['alg'] !== 'string' || !provider.config.algorithms.includes(header['alg'])) {
      const alg = printable(header['alg'], 20);
      throw rejection('algorithm_not_allowed', `signature algorithm not allowed: ${alg}`, { issuer });
    }
    let payload: JWTPayload;
    try {
      payload = await verifySignatureAndClaims(token, provider, clock);
    } catch (err) {
      throw toRejection(err, { issuer, kid: header['kid'] });
    }
    return toIdentity(payload, provider.config);
  };

  return {
    async verify(token: string): Promise<Identity> {
      try {
        return await verify(token);
      } catch (err) {
        // Last line of defence for the "only AuthError" promise; mapping is normally done above.
        throw toRejection(err, { issuer: '(unknown)', kid: undefined });
      }
    },
    close(): void {
      if (closing.signal.aborted) return;
      closing.abort();
      for (const provider of providers.values()) provider.keys.close();
    },
  };
}

async function verifySignatureAndClaims(
  token: string,
  provider: Provider,
  clock: Clock,
): Promise<JWTPayload> {
  const options = { ...provider.verifyOptions, currentDate: clock.now() };
  try {
    return (await jwtVerify(token, provider.keys.getKey, options)).payload;
  } catch (err) {
    if (!(err instanceof errors.JWKSMultipleMatchingKeys)) throw err;
    // No kid (or a duplicated kid) and several keys of the right type: try each, as jose suggests.
    for await (const key of err as unknown as AsyncIterable<JoseCryptoKey>) {
      try {
        return (await jwtVerify(token, key, options)).payload;
      } catch (inner) {
        if (!(inner instanceof errors.JWSSignatureVerificationFailed)) throw inner;
      }
    }
    throw new errors.JWSSignatureVerificationFailed();
  }
}

function toIdentity(payload: JWTPayload, config: ResolvedProvider): Identity {
  const issuer = config.issuer;
  if (typeof payload.sub !== 'string' || payload.sub === '') {
    throw rejection('claim_invalid', 'token has no subject (sub claim required)', { issuer });
  }
  const { exp, jti } = payload;
  return {
    subject: payload.sub,
    groups: extractGroups(payload, config.groupsClaim),
    issuer,
    expiresAt: typeof exp === 'number' ? new Date(exp * 1000) : undefined,
    tokenId: typeof jti === 'string' && jti !== '' ? jti : undefined,
  };
}
