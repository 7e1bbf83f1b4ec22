import { type AddressInfo, createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type OidcIssuer, startOidcIssuer } from '../../../test/fixtures/oidc-issuer.js';
import { expectRejection } from './test-support.js';
import { createTokenVerifier } from './token-verifier.js';
import type { ProviderOptions } from './verifier-options.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('keys through OIDC discovery', () => {
  let idp: OidcIssuer;
  const verifiers: { close(): void }[] = [];

  beforeEach(async () => {
    idp = await startOidcIssuer({ alg: 'EdDSA', path: '/realms/test' });
  });
  afterEach(async () => {
    for (const v of verifiers.splice(0)) v.close();
    await idp.close();
  });

  const make = (source: Partial<ProviderOptions> = { discovery: true }, jwksCooldownMs = 200) => {
    const verifier = createTokenVerifier({
      providers: [{ issuer: idp.issuer, audience: idp.audience, ...source }],
      jwksCooldownMs,
    });
    verifiers.push(verifier);
    return verifier;
  };

  it('discovers the JWKS URL on first use from the well-known document', async () => {
    const verifier = make();
    expect(idp.discoveryFetches).toBe(0);
    await expect(verifier.verify(await idp.sign({ sub: 'a' }))).resolves.toMatchObject({ subject: 'a' });
    await verifier.verify(await idp.sign({ sub: 'b' }));
    expect(idp.discoveryFetches).toBe(1);
    expect(idp.jwksFetches).toBe(1);
  });

  it('accepts an explicit discovery URL', async () => {
    const verifier = make({ discoveryUrl: idp.discoveryUrl });
    await expect(verifier.verify(await idp.sign({ sub: 'a' }))).resolves.toMatchObject({ subject: 'a' });
  });

  it('refuses a discovery document that names another issuer', async () => {
    idp.setDiscoveryIssuer('https://impostor.example');
    const token = await idp.sign({ sub: 'a' });
    await expectRejection(
      make().verify(token),
      token,
      /discovery document at .* names issuer "https:\/\/impostor.example", expected exactly "http:\/\/127/,
      'keys_unavailable',
    );
    expect(idp.jwksFetches).toBe(0);
  });

  it('retries a failed discovery after the cooldown, not before', async () => {
    idp.setDiscoveryDown(true);
    const verifier = make();
    const token = await idp.sign({ sub: 'a' });
    await expectRejection(verifier.verify(token), token, /discovery document at .* answered HTTP 503/);
    idp.setDiscoveryDown(false);
    await expectRejection(verifier.verify(token), token, /next attempt in/);
    expect(idp.discoveryFetches).toBe(1);
    await sleep(250);
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'a' });
    expect(idp.discoveryFetches).toBe(2);
  });

  it('shares one discovery between concurrent first tokens', async () => {
    const verifier = make();
    const tokens = await Promise.all([1, 2, 3, 4, 5].map((i) => idp.sign({ sub: `u${i}` })));
    await Promise.all(tokens.map((t) => verifier.verify(t)));
    expect(idp.discoveryFetches).toBe(1);
    expect(idp.jwksFetches).toBe(1);
  });

  it('fails closed when the discovery URL is unreachable', async () => {
    const token = await idp.sign({ sub: 'a' });
    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const verifier = make({
      discoveryUrl: `http://127.0.0.1:${closedPort}/.well-known/openid-configuration`,
    });
    await expectRejection(verifier.verify(token), token, /unreachable \(ECONNREFUSED\)/, 'keys_unavailable');
  });
});
