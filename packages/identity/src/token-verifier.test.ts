import { generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { craftToken, type OidcIssuer, startOidcIssuer } from '../../../test/fixtures/oidc-issuer.js';
import { expectRejection } from './test-support.js';
import { createTokenVerifier } from './token-verifier.js';
import type { ProviderOptions, VerifierOptions } from './verifier-options.js';

const nowSec = () => Math.floor(Date.now() / 1000);

describe('createTokenVerifier', () => {
  let idp: OidcIssuer;
  let other: OidcIssuer;
  const verifiers: { close(): void }[] = [];

  beforeAll(async () => {
    idp = await startOidcIssuer();
    other = await startOidcIssuer({ alg: 'ES256' });
  });
  afterAll(async () => {
    for (const v of verifiers) v.close();
    await idp.close();
    await other.close();
  });

  const provider = (extra: Partial<ProviderOptions> = {}): ProviderOptions => ({
    issuer: idp.issuer,
    audience: idp.audience,
    jwksUri: idp.jwksUri,
    ...extra,
  });
  const make = (extra: Partial<ProviderOptions> = {}, options: Partial<VerifierOptions> = {}) => {
    const verifier = createTokenVerifier({ providers: [provider(extra)], ...options });
    verifiers.push(verifier);
    return verifier;
  };

  describe('valid tokens', () => {
    it('returns the identity with subject, groups, issuer, expiry and token id', async () => {
      const exp = nowSec() + 120;
      const token = await idp.sign({ sub: 'alice', groups: ['dba', 'agents'], exp, jti: 'tok-1' });
      await expect(make().verify(token)).resolves.toEqual({
        subject: 'alice',
        groups: ['dba', 'agents'],
        issuer: idp.issuer,
        expiresAt: new Date(exp * 1000),
        tokenId: 'tok-1',
      });
    });

    it('reads groups from a dotted path', async () => {
      const token = await idp.sign({ sub: 'a', realm_access: { roles: ['admin'] } });
      const identity = await make({ groupsClaim: 'realm_access.roles' }).verify(token);
      expect(identity.groups).toEqual(['admin']);
    });

    it('reads groups from a URL-shaped claim name', async () => {
      const token = await idp.sign({ sub: 'a', 'https://example.com/groups': 'ops, dba' });
      const identity = await make({ groupsClaim: 'https://example.com/groups' }).verify(token);
      expect(identity.groups).toEqual(['ops', 'dba']);
    });

    it('gives empty groups when the claim is missing', async () => {
      const identity = await make().verify(await idp.sign({ sub: 'a' }));
      expect(identity.groups).toEqual([]);
      expect(identity.tokenId).toBeUndefined();
    });

    it('accepts any configured audience, and an aud list containing one of them', async () => {
      const verifier = make({ audience: ['first', idp.audience] });
      await expect(verifier.verify(await idp.sign({ sub: 'a' }))).resolves.toMatchObject({ subject: 'a' });
      const listed = await idp.sign({ sub: 'b', aud: ['unrelated', 'first'] });
      await expect(verifier.verify(listed)).resolves.toMatchObject({ subject: 'b' });
    });

    it('routes each token to its own issuer among several', async () => {
      const verifier = createTokenVerifier({
        providers: [provider(), { issuer: other.issuer, audience: other.audience, discovery: true }],
      });
      verifiers.push(verifier);
      await expect(verifier.verify(await other.sign({ sub: 'o' }))).resolves.toMatchObject({
        subject: 'o',
        issuer: other.issuer,
      });
      await expect(verifier.verify(await idp.sign({ sub: 'i' }))).resolves.toMatchObject({
        issuer: idp.issuer,
      });
    });
  });

  describe('algorithm attacks', () => {
    it('rejects alg none', async () => {
      const token = craftToken({ alg: 'none', typ: 'JWT' }, { iss: idp.issuer, aud: idp.audience, sub: 'x' });
      await expectRejection(
        make().verify(token),
        token,
        /signature algorithm not allowed/,
        'algorithm_not_allowed',
      );
    });

    it('rejects HS256 signed with the public key as HMAC secret, without fetching keys', async () => {
      const fresh = await startOidcIssuer();
      try {
        const pem = await fresh.publicKeyPem();
        const jwk = JSON.stringify(fresh.publicJwks().keys[0]);
        const verifier = make({ issuer: fresh.issuer, audience: fresh.audience, jwksUri: fresh.jwksUri });
        for (const secret of [pem, jwk]) {
          const token = await fresh.sign(
            { sub: 'mallory' },
            { alg: 'HS256', key: new TextEncoder().encode(secret) },
          );
          await expectRejection(verifier.verify(token), token, /signature algorithm not allowed/);
        }
        expect(fresh.jwksFetches).toBe(0);
      } finally {
        await fresh.close();
      }
    });

    it('rejects an asymmetric algorithm the provider does not allow', async () => {
      const { privateKey } = await generateKeyPair('ES256');
      const token = await idp.sign({ sub: 'x' }, { alg: 'ES256', key: privateKey });
      await expectRejection(
        make({ algorithms: ['RS256'] }).verify(token),
        token,
        /signature algorithm not allowed/,
      );
    });

    it('rejects a token signed by another key under a published kid', async () => {
      const { privateKey } = await generateKeyPair('RS256');
      const token = await idp.sign({ sub: 'x' }, { key: privateKey });
      await expectRejection(make().verify(token), token, /^signature invalid$/, 'signature_invalid');
    });

    it('rejects a token signed by one trusted issuer but claiming another', async () => {
      const verifier = createTokenVerifier({
        providers: [provider(), { issuer: other.issuer, audience: other.audience, jwksUri: other.jwksUri }],
      });
      verifiers.push(verifier);
      // idp's key, other's iss: the kid is not in other's key set.
      const token = await idp.sign({ sub: 'x', iss: other.issuer, aud: other.audience }, { alg: 'RS256' });
      await expectRejection(verifier.verify(token), token, /no signing key available for kid/);
    });
  });

  describe('time', () => {
    const at = (sec: number) => ({ now: () => new Date(sec * 1000) });

    it('rejects an expired token', async () => {
      const now = nowSec();
      const token = await idp.sign({ sub: 'a', iat: now - 600, exp: now - 60 });
      await expectRejection(make({}, { clock: at(now) }).verify(token), token, /^token expired$/, 'expired');
    });

    it('rejects a token not yet valid', async () => {
      const now = nowSec();
      const token = await idp.sign({ sub: 'a', nbf: now + 60, exp: now + 600 });
      await expectRejection(
        make({}, { clock: at(now) }).verify(token),
        token,
        /^token not yet valid$/,
        'not_yet_valid',
      );
    });

    it('accepts exp and nbf within the clock tolerance', async () => {
      const now = nowSec();
      const verifier = make({}, { clock: at(now), clockToleranceSec: 30 });
      await expect(verifier.verify(await idp.sign({ sub: 'late', exp: now - 20 }))).resolves.toBeDefined();
      await expect(verifier.verify(await idp.sign({ sub: 'early', nbf: now + 20 }))).resolves.toBeDefined();
      const beyond = await idp.sign({ sub: 'late', exp: now - 31 });
      await expectRejection(verifier.verify(beyond), beyond, /token expired/);
    });

    it('requires exp', async () => {
      const token = await idp.sign({ sub: 'a', exp: undefined });
      await expectRejection(make().verify(token), token, /token has no expiry/, 'claim_invalid');
    });
  });

  describe('claims', () => {
    it('rejects an untrusted issuer', async () => {
      const token = await idp.sign({ sub: 'a', iss: 'https://evil.example' });
      await expectRejection(make().verify(token), token, /^issuer not trusted: "https:\/\/evil.example"$/);
    });

    it('rejects a token without iss', async () => {
      const token = await idp.sign({ sub: 'a', iss: undefined });
      await expectRejection(make().verify(token), token, /issuer not trusted/, 'issuer_not_trusted');
    });

    it('treats an issuer with a trailing slash as a different issuer', async () => {
      const token = await idp.sign({ sub: 'a', iss: `${idp.issuer}/` });
      await expectRejection(make().verify(token), token, /issuer not trusted/);
    });

    it('rejects a wrong audience', async () => {
      const token = await idp.sign({ sub: 'a', aud: 'someone-else' });
      await expectRejection(make().verify(token), token, /^audience not accepted$/, 'audience_not_accepted');
    });

    it('rejects a token without aud', async () => {
      const token = await idp.sign({ sub: 'a', aud: undefined });
      await expectRejection(make().verify(token), token, /audience not accepted/);
    });

    it('requires sub', async () => {
      const token = await idp.sign({ groups: ['x'] });
      await expectRejection(make().verify(token), token, /token has no subject/, 'claim_invalid');
      const empty = await idp.sign({ sub: '' });
      await expectRejection(make().verify(empty), empty, /token has no subject/);
    });
  });

  describe('malformed input', () => {
    it.each([
      ['empty', ''],
      ['a word', 'hello'],
      ['two segments', 'abc.def'],
      ['bad characters', 'a b.c.d'],
      ['five segments (JWE)', 'a.b.c.d.e'],
      ['not JSON', 'YWJj.ZGVm.Z2hp'],
      ['a JSON array header', `${Buffer.from('[1]').toString('base64url')}.e30.c2ln`],
      ['a bearer prefix', 'Bearer abc.def.ghi'],
    ])('rejects %s as malformed', async (_name, token) => {
      await expectRejection(make().verify(token), token, /^malformed token/, 'malformed');
    });

    it('rejects non-strings', async () => {
      await expectRejection(
        make().verify(undefined as unknown as string),
        '',
        /malformed token: not a string/,
      );
    });

    it('rejects oversized tokens before parsing', async () => {
      const padded = await idp.sign({ sub: 'a', padding: 'x'.repeat(20_000) });
      await expectRejection(make().verify(padded), padded, /token too large/, 'too_large');
      const junk = 'a'.repeat(1_000_000);
      await expectRejection(make().verify(junk), junk, /token too large/);
    });

    it('rejects a token with a tampered payload', async () => {
      const token = await idp.sign({ sub: 'alice' });
      const [header, , signature] = token.split('.');
      const forged = `${header}.${Buffer.from(JSON.stringify({ iss: idp.issuer, aud: idp.audience, sub: 'root', exp: nowSec() + 60 })).toString('base64url')}.${signature}`;
      await expectRejection(make().verify(forged), forged, /signature invalid/);
    });

    it('refuses work after close', async () => {
      const verifier = make();
      verifier.close();
      const token = await idp.sign({ sub: 'a' });
      await expectRejection(verifier.verify(token), token, /closed/, 'verifier_closed');
    });
  });
});
