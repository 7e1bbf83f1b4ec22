import { createDiscoveryKeySource } from './discovery.js';
import { createFileKeySource, createStaticKeySource } from './file-jwks.js';
import type { KeySource, KeySourceContext } from './key-source.js';
import { createRemoteKeySource } from './remote-jwks.js';
import type { ResolvedProvider } from './verifier-options.js';

/** Picks the key source for a provider's configured kind. */
export function createKeySource(
  provider: ResolvedProvider,
  context: KeySourceContext,
  configPath: string,
): KeySource {
  const source = provider.source;
  switch (source.kind) {
    case 'discovery':
      return createDiscoveryKeySource(provider.issuer, source.url, source.allowInsecureHttp, context);
    case 'jwks-uri':
      return createRemoteKeySource(source.url, context);
    case 'jwks-file':
      return createFileKeySource(source.path, context, `${configPath}.jwksFile`);
    case 'dev-issuer':
      return createStaticKeySource(source.devIssuer.publicJwks(), 'of the development issuer');
  }
}
