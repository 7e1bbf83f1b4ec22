import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@gatehouse/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OidcIssuer, startOidcIssuer } from '../../../test/fixtures/oidc-issuer.js';
import { expectRejection } from './test-support.js';
import { createTokenVerifier } from './token-verifier.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('keys from a local JWKS file', () => {
  let idp: OidcIssuer;
  let dir: string;

  beforeAll(async () => {
    idp = await startOidcIssuer({ alg: 'PS256' });
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-jwks-'));
  });
  afterAll(async () => {
    await idp.close();
    await rm(dir, { recursive: true, force: true });
  });

  const make = (jwksFile: string, jwksCooldownMs = 30_000) =>
    createTokenVerifier({
      providers: [{ issuer: idp.issuer, audience: idp.audience, jwksFile }],
      jwksCooldownMs,
    });

  it('verifies tokens with keys from the file, without network access', async () => {
    const file = join(dir, 'static.json');
    await writeFile(file, JSON.stringify(idp.publicJwks()));
    const verifier = make(file);
    await expect(verifier.verify(await idp.sign({ sub: 'a', groups: ['g'] }))).resolves.toMatchObject({
      subject: 'a',
      groups: ['g'],
    });
    expect(idp.jwksFetches).toBe(0);
  });

  it('re-reads the file on an unknown kid after the cooldown', async () => {
    const file = join(dir, 'rotating.json');
    await writeFile(file, JSON.stringify(idp.publicJwks()));
    await idp.rotate();
    const token = await idp.sign({ sub: 'b' });
    const verifier = make(file, 300);
    await writeFile(file, JSON.stringify(idp.publicJwks()));
    // Read at construction, before the new key was written; the cooldown delays the re-read.
    await expectRejection(verifier.verify(token), token, /no signing key available/);
    await sleep(350);
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'b' });
  });

  it.each([
    ['missing', null, /could not be read \(ENOENT\)/],
    ['not JSON', 'nope', /is not valid JSON/],
    ['not a key set', '{"kty":"RSA"}', /is not a JSON Web Key Set/],
  ])('refuses a %s file at construction', async (name, content, message) => {
    const file = join(dir, `${name}.json`);
    if (content !== null) await writeFile(file, content);
    const error = (() => {
      try {
        make(file);
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(message);
    expect((error as ConfigError).path).toBe('providers[0].jwksFile');
  });
});
