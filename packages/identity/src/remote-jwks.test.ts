import { exportJWK, generateKeyPair } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type OidcIssuer, startOidcIssuer } from '../../../test/fixtures/oidc-issuer.js';
import { expectRejection } from './test-support.js';
import { createTokenVerifier } from './token-verifier.js';
import type { VerifierOptions } from './verifier-options.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('keys from a JWKS URL', () => {
  let idp: OidcIssuer;
  const verifiers: { close(): void }[] = [];

  beforeEach(async () => {
    idp = await startOidcIssuer({ alg: 'ES256' });
  });
  afterEach(async () => {
    for (const v of verifiers.splice(0)) v.close();
    await idp.close();
  });

  const make = (options: Partial<VerifierOptions> = {}) => {
    const verifier = createTokenVerifier({
      providers: [{ issuer: idp.issuer, audience: idp.audience, jwksUri: idp.jwksUri }],
      ...options,
    });
    verifiers.push(verifier);
    return verifier;
  };

  it('fetches the key set lazily and once for many tokens', async () => {
    const verifier = make();
    expect(idp.jwksFetches).toBe(0);
    for (let i = 0; i < 5; i++) await verifier.verify(await idp.sign({ sub: `u${i}` }));
    expect(idp.jwksFetches).toBe(1);
  });

  it('picks up a rotated key after the cooldown', async () => {
    const verifier = make({ jwksCooldownMs: 200 });
    await verifier.verify(await idp.sign({ sub: 'before' }));
    const newKid = await idp.rotate();
    const token = await idp.sign({ sub: 'after' });

    // Within the cooldown the new kid is unknown and the endpoint is not asked again.
    await expectRejection(
      verifier.verify(token),
      token,
      new RegExp(`no signing key available for kid "${newKid}"`),
      'no_signing_key',
    );
    expect(idp.jwksFetches).toBe(1);

    await sleep(250);
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'after' });
    expect(idp.jwksFetches).toBe(2);
  });

  it('picks up a rotated key at once when no cooldown is configured', async () => {
    const verifier = make({ jwksCooldownMs: 0 });
    await verifier.verify(await idp.sign({ sub: 'before' }));
    await idp.rotate();
    await expect(verifier.verify(await idp.sign({ sub: 'after' }))).resolves.toMatchObject({
      subject: 'after',
    });
  });

  it('bounds fetches when many tokens carry unknown kids', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const forge = (i: number) => idp.sign({ sub: 'x' }, { key: privateKey, kid: `unknown-${i}` });

    // Cold cache, concurrent storm: one shared fetch.
    const cold = make();
    const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => forge(i)));
    const results = await Promise.allSettled(tokens.map((t) => cold.verify(t)));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(idp.jwksFetches).toBeLessThanOrEqual(2);

    // Warm cache, sequential storm: the cooldown holds.
    const before = idp.jwksFetches;
    const warm = make();
    await warm.verify(await idp.sign({ sub: 'ok' }));
    for (let i = 0; i < 30; i++) {
      const token = await forge(100 + i);
      await expectRejection(warm.verify(token), token, /no signing key available for kid "unknown-/);
    }
    expect(idp.jwksFetches - before).toBe(1);
  });

  it('fails closed when the endpoint answers 500 and no key is cached', async () => {
    idp.setJwksDown(true, 'status-500');
    const verifier = make({ jwksCooldownMs: 200 });
    const token = await idp.sign({ sub: 'a' });
    await expectRejection(
      verifier.verify(token),
      token,
      /signing keys unavailable for issuer .*: JWKS at .*\/jwks answered HTTP 500/,
      'keys_unavailable',
    );
    // A dead endpoint is not hammered: further tokens fail at once during the cooldown.
    await expectRejection(verifier.verify(token), token, /next attempt in/);
    expect(idp.jwksFetches).toBe(1);

    idp.setJwksDown(false);
    await sleep(250);
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'a' });
  });

  it('fails closed when the endpoint drops the connection', async () => {
    idp.setJwksDown(true, 'reset');
    const token = await idp.sign({ sub: 'a' });
    await expectRejection(make().verify(token), token, /JWKS at .* unreachable/, 'keys_unavailable');
  });

  it('fails closed when the endpoint hangs, after the fetch timeout', async () => {
    idp.setJwksDown(true, 'hang');
    const token = await idp.sign({ sub: 'a' });
    const started = Date.now();
    await expectRejection(make({ fetchTimeoutMs: 300 }).verify(token), token, /timed out after 300 ms/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('keeps using cached keys while the endpoint is down', async () => {
    const verifier = make();
    await verifier.verify(await idp.sign({ sub: 'a' }));
    idp.setJwksDown(true);
    await expect(verifier.verify(await idp.sign({ sub: 'b' }))).resolves.toMatchObject({ subject: 'b' });
  });

  it.each([
    ['not JSON', 'oops', /is not valid JSON/],
    ['not a key set', '{"keys":"nope"}', /is not a JSON Web Key Set/],
    ['a key set with a private key', null, /contains private or secret key material/],
  ])('refuses a JWKS document that is %s', async (_name, body, message) => {
    if (body === null) {
      const { privateKey } = await generateKeyPair('ES256', { extractable: true });
      idp.setJwksBody(JSON.stringify({ keys: [{ ...(await exportJWK(privateKey)), kid: idp.currentKid }] }));
    } else {
      idp.setJwksBody(body);
    }
    const token = await idp.sign({ sub: 'a' });
    await expectRejection(make().verify(token), token, message, 'keys_unavailable');
  });

  it('stops accepting a key the issuer no longer publishes once the set is refetched', async () => {
    const verifier = make({ jwksCooldownMs: 0 });
    const oldKid = idp.currentKid;
    const oldToken = await idp.sign({ sub: 'old' });
    await verifier.verify(oldToken);
    await idp.rotate();
    idp.unpublish(oldKid);
    // The new kid forces a refetch, which replaces the cached set.
    await verifier.verify(await idp.sign({ sub: 'new' }));
    await expectRejection(verifier.verify(oldToken), oldToken, /no signing key available/);
  });

  it('tries every candidate key when the token has no kid', async () => {
    const verifier = make();
    await idp.rotate();
    const token = await idp.sign({ sub: 'kidless' }, { kid: null });
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'kidless' });
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await idp.sign({ sub: 'x' }, { key: privateKey, kid: null });
    await expectRejection(verifier.verify(forged), forged, /^signature invalid$/);
  });
});
