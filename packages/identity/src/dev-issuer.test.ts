import { chmod, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@gatehouse/core';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type OidcIssuer, startOidcIssuer } from '../../../test/fixtures/oidc-issuer.js';
import { devIssuerKeyPath, loadDevIssuer, loadOrCreateDevIssuer } from './dev-issuer.js';
import { expectRejection } from './test-support.js';
import { createTokenVerifier } from './token-verifier.js';

describe('development issuer', () => {
  let dataDir: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-dev-issuer-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('creates its key once, private to the owner, and reuses it', async () => {
    const first = await loadOrCreateDevIssuer(dataDir);
    const second = await loadOrCreateDevIssuer(dataDir);
    expect(second.kid).toBe(first.kid);
    expect(second.publicJwks()).toEqual(first.publicJwks());
    expect((await stat(devIssuerKeyPath(dataDir))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dataDir, 'dev-issuer'))).mode & 0o777).toBe(0o700);
    // The public set carries no private material.
    expect(first.publicJwks().keys[0]).not.toHaveProperty('d');
  });

  it('agrees on one key when first used concurrently', async () => {
    const issuers = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateDevIssuer(dataDir)));
    expect(new Set(issuers.map((i) => i.kid)).size).toBe(1);
    expect(await readdir(join(dataDir, 'dev-issuer'))).toEqual(['signing-key.jwk.json']);
  });

  it('loadDevIssuer does not create a key', async () => {
    await expect(loadDevIssuer(dataDir)).rejects.toThrow(
      /no development issuer key at .*gatehouse token issue/,
    );
    const created = await loadOrCreateDevIssuer(dataDir);
    await expect(loadDevIssuer(dataDir)).resolves.toMatchObject({ kid: created.kid });
  });

  it('issues tokens with the expected header and claims', async () => {
    const dev = await loadOrCreateDevIssuer(dataDir);
    const token = await dev.issue({ sub: 'agent-1', groups: ['agents'], claims: { team: 'blue' } });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'EdDSA', typ: 'JWT', kid: dev.kid });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({
      iss: 'urn:gatehouse:dev',
      aud: 'gatehouse',
      sub: 'agent-1',
      groups: ['agents'],
      team: 'blue',
    });
    expect(typeof claims.jti).toBe('string');
    expect((claims.exp as number) - (claims.iat as number)).toBe(15 * 60);
  });

  it('honours ttl, and verifies only while it lasts', async () => {
    let now = new Date('2030-01-01T00:00:00Z');
    const clock = { now: () => now };
    const dev = await loadOrCreateDevIssuer(dataDir, { clock });
    const verifier = createTokenVerifier({ providers: [], devIssuer: dev, clock, clockToleranceSec: 0 });
    const token = await dev.issue({ sub: 'agent-1', ttl: 60_000 });
    const claims = decodeJwt(token);
    expect((claims.exp as number) - (claims.iat as number)).toBe(60);
    await expect(verifier.verify(token)).resolves.toMatchObject({
      subject: 'agent-1',
      groups: [],
      issuer: 'urn:gatehouse:dev',
      expiresAt: new Date('2030-01-01T00:01:00Z'),
    });
    now = new Date('2030-01-01T00:01:01Z');
    await expectRejection(verifier.verify(token), token, /token expired/);
  });

  it('is trusted only when passed to the verifier', async () => {
    let idp: OidcIssuer | undefined;
    try {
      idp = await startOidcIssuer();
      const dev = await loadOrCreateDevIssuer(dataDir, { issuer: 'urn:test:dev', audience: 'gw' });
      const token = await dev.issue({ sub: 'agent-1', groups: ['agents'] });
      const provider = { issuer: idp.issuer, audience: idp.audience, jwksUri: idp.jwksUri };

      const without = createTokenVerifier({ providers: [provider] });
      await expectRejection(without.verify(token), token, /issuer not trusted: "urn:test:dev"/);

      const trusting = createTokenVerifier({ providers: [provider], devIssuer: dev });
      await expect(trusting.verify(token)).resolves.toMatchObject({ subject: 'agent-1', groups: ['agents'] });
      const otherAudience = await dev.issue({ sub: 'agent-1', audience: 'elsewhere' });
      await expectRejection(trusting.verify(otherAudience), otherAudience, /audience not accepted/);
      without.close();
      trusting.close();
    } finally {
      await idp?.close();
    }
  });

  it('is not trusted with another data directory’s key', async () => {
    const mine = await loadOrCreateDevIssuer(dataDir);
    const otherDir = await mkdtemp(join(tmpdir(), 'gatehouse-dev-issuer-'));
    try {
      const theirs = await loadOrCreateDevIssuer(otherDir);
      const token = await theirs.issue({ sub: 'x' });
      const verifier = createTokenVerifier({ providers: [], devIssuer: mine, jwksCooldownMs: 0 });
      await expectRejection(verifier.verify(token), token, /no signing key available for kid/);
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
  });

  it.each([
    [{ sub: '' }, /sub must be a non-empty string/],
    [{ sub: 'a', ttl: 500 }, /ttl must be between/],
    [{ sub: 'a', ttl: 25 * 3_600_000 }, /ttl must be between/],
    [{ sub: 'a', groups: [''] }, /groups must be a list/],
    [{ sub: 'a', claims: { exp: 1, iss: 'x' } }, /claims may not set iss, exp|claims may not set exp, iss/],
  ])('refuses a bad request %j', async (request, message) => {
    const dev = await loadOrCreateDevIssuer(dataDir);
    await expect(dev.issue(request)).rejects.toThrow(message);
  });

  it('refuses a key file readable by others', async () => {
    await loadOrCreateDevIssuer(dataDir);
    await chmod(devIssuerKeyPath(dataDir), 0o644);
    await expect(loadOrCreateDevIssuer(dataDir)).rejects.toThrow(/accessible by other users \(mode 644\)/);
  });

  it('refuses a corrupt key file instead of replacing it', async () => {
    await loadOrCreateDevIssuer(dataDir);
    await writeFile(devIssuerKeyPath(dataDir), '{"kty":"RSA"}', { mode: 0o600 });
    const error = await loadOrCreateDevIssuer(dataDir).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/is not an Ed25519 private JWK/);
  });

  it('cannot share an issuer name with a configured provider', async () => {
    const dev = await loadOrCreateDevIssuer(dataDir);
    expect(() =>
      createTokenVerifier({
        providers: [{ issuer: dev.issuer, audience: 'x', jwksUri: 'https://idp.example/jwks' }],
        devIssuer: dev,
      }),
    ).toThrow(/configured more than once/);
  });
});
