import { ConfigError } from '@gatehouse/core';
import { describe, expect, it } from 'vitest';
import { type ProviderOptions, resolveVerifierOptions, type VerifierOptions } from './verifier-options.js';

const base: ProviderOptions = { issuer: 'https://idp.example', audience: 'gatehouse', discovery: true };

function configError(options: VerifierOptions): ConfigError {
  try {
    resolveVerifierOptions(options);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('resolveVerifierOptions', () => {
  it('applies defaults', () => {
    const resolved = resolveVerifierOptions({ providers: [base] });
    expect(resolved).toMatchObject({ clockToleranceSec: 30, jwksCooldownMs: 30_000, fetchTimeoutMs: 5_000 });
    const provider = resolved.providers.get('https://idp.example');
    expect(provider?.groupsClaim).toBe('groups');
    expect(provider?.algorithms).toContain('RS256');
    expect(provider?.algorithms).not.toContain('HS256');
    expect(provider?.source).toMatchObject({ kind: 'discovery' });
    const source = provider?.source as { url: URL };
    expect(source.url.href).toBe('https://idp.example/.well-known/openid-configuration');
  });

  it('strips a trailing slash before appending the well-known path', () => {
    const resolved = resolveVerifierOptions({
      providers: [{ ...base, issuer: 'https://idp.example/realms/x/' }],
    });
    const source = resolved.providers.get('https://idp.example/realms/x/')?.source as { url: URL };
    expect(source.url.href).toBe('https://idp.example/realms/x/.well-known/openid-configuration');
  });

  it.each([
    ['no source', { discovery: undefined }, /exactly one key source is required.*none is set/],
    ['two sources', { jwksUri: 'https://idp.example/jwks' }, /found discovery, jwksUri/],
    ['discovery false', { discovery: false }, /none is set/],
  ])('requires exactly one key source: %s', (_name, extra, message) => {
    const error = configError({ providers: [{ ...base, ...extra }] });
    expect(error.message).toMatch(message);
    expect(error.path).toBe('providers[0]');
  });

  it.each(['HS256', 'HS512', 'none', 'RSA-OAEP', 'rs256'])('refuses algorithm %s', (alg) => {
    const error = configError({ providers: [{ ...base, algorithms: [alg] }] });
    expect(error.message).toMatch(/only asymmetric algorithms/);
    expect(error.path).toBe('providers[0].algorithms');
  });

  it('refuses plain http to non-loopback hosts unless allowed', () => {
    const error = configError({
      providers: [{ ...base, discovery: undefined, jwksUri: 'http://idp.corp/jwks' }],
    });
    expect(error.message).toMatch(/must use https/);
    expect(error.path).toBe('providers[0].jwksUri');
    expect(() =>
      resolveVerifierOptions({
        providers: [
          { ...base, discovery: undefined, jwksUri: 'http://idp.corp/jwks', allowInsecureHttp: true },
        ],
      }),
    ).not.toThrow();
    for (const host of ['127.0.0.1:8080', 'localhost', '[::1]:9000']) {
      expect(() =>
        resolveVerifierOptions({
          providers: [{ ...base, discovery: undefined, jwksUri: `http://${host}/jwks` }],
        }),
      ).not.toThrow();
    }
  });

  it.each([
    ['empty issuer', { issuer: '' }, 'providers[0].issuer'],
    ['empty audience', { audience: '' }, 'providers[0].audience'],
    ['empty audience list', { audience: [] }, 'providers[0].audience'],
    ['empty groups claim', { groupsClaim: '' }, 'providers[0].groupsClaim'],
    ['empty algorithm list', { algorithms: [] }, 'providers[0].algorithms'],
    ['bad URL', { discovery: undefined, jwksUri: 'not a url' }, 'providers[0].jwksUri'],
  ])('names the key at fault: %s', (_name, extra, path) => {
    expect(configError({ providers: [{ ...base, ...extra } as ProviderOptions] }).path).toBe(path);
  });

  it('refuses duplicate issuers and an empty provider list', () => {
    expect(configError({ providers: [base, base] }).message).toMatch(/configured more than once/);
    expect(configError({ providers: [] }).message).toMatch(/no token issuer configured/);
  });

  it.each([
    ['clockToleranceSec', -1],
    ['clockToleranceSec', 3600],
    ['jwksCooldownMs', 1.5],
    ['fetchTimeoutMs', 0],
    ['fetchTimeoutMs', Number.NaN],
  ])('refuses %s = %s', (key, value) => {
    expect(configError({ providers: [base], [key]: value }).path).toBe(key);
  });
});
