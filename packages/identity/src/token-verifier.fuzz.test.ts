import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthError } from '@gatehouse/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { craftToken, type OidcIssuer, startOidcIssuer } from '../../../test/fixtures/oidc-issuer.js';
import { expectNoLeak } from './test-support.js';
import { createTokenVerifier } from './token-verifier.js';

/** Whatever the input, verify() rejects, and only with an AuthError that does not echo it. */
describe('verify() on hostile input', () => {
  let idp: OidcIssuer;
  let dir: string;
  let verifier: ReturnType<typeof createTokenVerifier>;

  beforeAll(async () => {
    idp = await startOidcIssuer({ alg: 'ES256' });
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-fuzz-'));
    const jwksFile = join(dir, 'jwks.json');
    await writeFile(jwksFile, JSON.stringify(idp.publicJwks()));
    // A file source keeps the property offline and fast; the routing and jose paths are the same.
    verifier = createTokenVerifier({
      providers: [{ issuer: idp.issuer, audience: idp.audience, jwksFile, groupsClaim: 'a.b' }],
    });
  });
  afterAll(async () => {
    verifier.close();
    await idp.close();
    await rm(dir, { recursive: true, force: true });
  });

  const onlyAuthErrors = async (token: string) => {
    const outcome = await verifier.verify(token).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(outcome).toBeInstanceOf(AuthError);
    expectNoLeak(outcome as AuthError, token);
  };

  it('arbitrary strings', async () => {
    await fc.assert(fc.asyncProperty(fc.string({ maxLength: 300 }), onlyAuthErrors), { numRuns: 300 });
  });

  it('arbitrary dot-separated base64url segments', async () => {
    const segment = fc
      .base64String({ maxLength: 120 })
      .map((s) => s.replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_'));
    await fc.assert(
      fc.asyncProperty(fc.array(segment, { minLength: 1, maxLength: 6 }), (parts) =>
        onlyAuthErrors(parts.join('.')),
      ),
      { numRuns: 300 },
    );
  });

  it('JWT-shaped tokens routed to a trusted issuer with hostile headers, claims and signatures', async () => {
    const header = fc.record(
      {
        alg: fc.oneof(fc.constantFrom('none', 'HS256', 'ES256', 'RS256', 'EdDSA', 'ES256K'), fc.anything()),
        kid: fc.oneof(fc.constant(idp.currentKid), fc.string(), fc.anything()),
        crit: fc.array(fc.string(), { maxLength: 2 }),
        b64: fc.boolean(),
        jku: fc.webUrl(),
      },
      { requiredKeys: ['alg'] },
    );
    const claims = fc.record(
      {
        iss: fc.constant(idp.issuer),
        aud: fc.oneof(fc.constant(idp.audience), fc.anything()),
        sub: fc.anything(),
        exp: fc.oneof(fc.integer(), fc.double(), fc.anything()),
        nbf: fc.anything(),
        iat: fc.anything(),
        a: fc.anything(),
      },
      { requiredKeys: ['iss'] },
    );
    const signature = fc
      .uint8Array({ maxLength: 80 })
      .map((bytes) => Buffer.from(bytes).toString('base64url'));
    await fc.assert(
      fc.asyncProperty(header, claims, signature, (h, c, s) => onlyAuthErrors(craftToken(h, c, s))),
      { numRuns: 300 },
    );
  });
});
