import type { JWTVerifyGetKey } from 'jose';
import { displayUrl, fetchJsonDocument } from './http-fetch.js';
import { FailureBackoff, type KeySource, type KeySourceContext, KeySourceError } from './key-source.js';
import { createRemoteKeySource } from './remote-jwks.js';
import { fetchableUrl } from './verifier-options.js';

/**
 * Keys found through OIDC discovery. The document is fetched on first use, not at construction, so
 * that an IdP outage at gateway start does not stop the gateway (tokens are refused meanwhile);
 * a failed attempt is retried after the cooldown. The document must name exactly the configured
 * issuer: otherwise a compromised or mistyped discovery URL could hand us another issuer's keys.
 */
export function createDiscoveryKeySource(
  issuer: string,
  url: URL,
  allowInsecureHttp: boolean,
  context: KeySourceContext,
): KeySource {
  const backoff = new FailureBackoff(context.cooldownMs);
  let keys: KeySource | undefined;
  let pending: Promise<KeySource> | undefined;

  const discover = async (): Promise<KeySource> => {
    const document = await fetchJsonDocument(url, {
      what: 'discovery document',
      timeoutMs: context.fetchTimeoutMs,
      signals: [context.signal],
    });
    const where = `discovery document at ${displayUrl(url)}`;
    if (typeof document !== 'object' || document === null || Array.isArray(document)) {
      throw new KeySourceError(`${where} is not a JSON object`);
    }
    const { issuer: named, jwks_uri: jwksUri } = document as Record<string, unknown>;
    if (named !== issuer) {
      throw new KeySourceError(
        `${where} names issuer ${JSON.stringify(String(named))}, expected exactly ${JSON.stringify(issuer)}`,
      );
    }
    if (typeof jwksUri !== 'string') throw new KeySourceError(`${where} has no jwks_uri`);
    let jwksUrl: URL;
    try {
      jwksUrl = fetchableUrl(jwksUri, allowInsecureHttp, 'jwks_uri');
    } catch (err) {
      throw new KeySourceError(`${where}: jwks_uri ${(err as Error).message}`);
    }
    return createRemoteKeySource(jwksUrl, context);
  };

  const resolve = (): Promise<KeySource> => {
    if (keys !== undefined) return Promise.resolve(keys);
    if (pending !== undefined) return pending;
    if (context.signal.aborted) return Promise.reject(new KeySourceError('verifier closed'));
    try {
      backoff.check();
    } catch (err) {
      return Promise.reject(err);
    }
    pending = discover().then(
      (found) => {
        keys = found;
        backoff.succeeded();
        pending = undefined;
        return found;
      },
      (err: unknown) => {
        const error =
          err instanceof KeySourceError ? err : new KeySourceError(`OIDC discovery failed: ${String(err)}`);
        backoff.failed(error);
        pending = undefined;
        throw error;
      },
    );
    return pending;
  };

  const getKey: JWTVerifyGetKey = async (header, token) => (await resolve()).getKey(header, token);
  return {
    getKey,
    close() {
      keys?.close();
    },
  };
}
