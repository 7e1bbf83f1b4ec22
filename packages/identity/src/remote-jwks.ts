import { createRemoteJWKSet, customFetch, type FetchImplementation } from 'jose';
import { displayUrl, fetchJsonDocument } from './http-fetch.js';
import { FailureBackoff, type KeySource, type KeySourceContext, KeySourceError } from './key-source.js';

/**
 * Keys from a JWKS URL through jose's remote key set, which caches the set, refetches on an unknown
 * `kid` at most once per cooldown and shares one in-flight request between concurrent callers.
 * Fetching goes through our own function so that failures are rate-limited too (jose only limits
 * after a success) and come back as messages that name the endpoint.
 */
export function createRemoteKeySource(url: URL, context: KeySourceContext): KeySource {
  const backoff = new FailureBackoff(context.cooldownMs);
  const fetchKeys: FetchImplementation = async (href, init) => {
    if (context.signal.aborted) throw new KeySourceError('verifier closed');
    backoff.check();
    try {
      const document = await fetchJsonDocument(href, {
        what: 'JWKS',
        timeoutMs: context.fetchTimeoutMs,
        signals: [init.signal, context.signal],
        headers: init.headers,
      });
      assertKeySet(document, `JWKS at ${displayUrl(href)}`);
      backoff.succeeded();
      return Response.json(document);
    } catch (err) {
      const error = err instanceof KeySourceError ? err : new KeySourceError(String(err), { cause: err });
      backoff.failed(error);
      throw error;
    }
  };
  const getKey = createRemoteJWKSet(url, {
    timeoutDuration: context.fetchTimeoutMs,
    cooldownDuration: context.cooldownMs,
    [customFetch]: fetchKeys,
  });
  return { getKey, close() {} };
}

/** The shape jose requires; checked here so that a bad document counts as a failed fetch. */
export function assertKeySet(document: unknown, where: string): asserts document is { keys: object[] } {
  const keys = (document as { keys?: unknown } | null)?.keys;
  if (
    typeof document !== 'object' ||
    document === null ||
    !Array.isArray(keys) ||
    !keys.every((key) => typeof key === 'object' && key !== null && !Array.isArray(key))
  ) {
    throw new KeySourceError(`${where} is not a JSON Web Key Set (expected an object with a "keys" array)`);
  }
  // A set that leaks signing secrets lets anyone mint tokens; trusting any key from it would be
  // trusting everyone.
  if (keys.some((key) => 'd' in key || (key as { kty?: unknown }).kty === 'oct')) {
    throw new KeySourceError(`${where} contains private or secret key material; refusing to use it`);
  }
}
