import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { settingsFromEnv } from './settings.js';
import { ClientCredentialsTokenProvider, StaticTokenProvider } from './token-provider.js';
import { fingerprint, hostKeyMatcher } from './tools/host-key.js';

const base = { GATEHOUSE_TOKEN: 'tok', GATEHOUSE_PG_URL: 'postgres://app@127.0.0.1:15432/shop' };

describe('settingsFromEnv', () => {
  it('reads the endpoints from URLs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-agent-settings-'));
    writeFileSync(join(dir, 'ca.pem'), 'PEM');
    const settings = settingsFromEnv({
      ...base,
      GATEHOUSE_CA_FILE: join(dir, 'ca.pem'),
      GATEHOUSE_SSH_URL: 'ssh://deploy@[::1]:2222',
      GATEHOUSE_SSH_HOST_KEY: 'SHA256:abc',
      GATEHOUSE_KUBE_URL: 'https://gw.example.com:16443/',
    });
    expect(settings.tokens).toBeInstanceOf(StaticTokenProvider);
    expect(settings.caPem).toBe('PEM');
    expect(settings.postgres).toEqual({ host: '127.0.0.1', port: 15432, user: 'app', database: 'shop' });
    expect(settings.ssh).toEqual({ host: '::1', port: 2222, user: 'deploy', hostKey: 'SHA256:abc' });
    expect(settings.kubernetes).toEqual({ server: 'https://gw.example.com:16443', namespace: 'default' });
  });

  it('uses the client-credentials grant when a token URL is given', () => {
    const settings = settingsFromEnv({
      GATEHOUSE_PG_URL: base.GATEHOUSE_PG_URL,
      GATEHOUSE_TOKEN_URL: 'http://127.0.0.1:9090/oauth/token',
      GATEHOUSE_CLIENT_ID: 'support-agent',
      GATEHOUSE_CLIENT_SECRET: 'secret-value-0123456789',
    });
    expect(settings.tokens).toBeInstanceOf(ClientCredentialsTokenProvider);
    expect(settings.tokenSource).toBe('client credentials for support-agent from http://127.0.0.1:9090');
    expect(settings.tokenSource).not.toContain('secret-value');
  });

  it.each([
    [{ GATEHOUSE_PG_URL: base.GATEHOUSE_PG_URL }, 'no Gatehouse token'],
    [{ ...base, GATEHOUSE_TOKEN_URL: 'https://idp/token' }, 'not both'],
    [
      { GATEHOUSE_PG_URL: base.GATEHOUSE_PG_URL, GATEHOUSE_TOKEN_URL: 'https://idp/t' },
      'needs GATEHOUSE_CLIENT_ID',
    ],
    [{ GATEHOUSE_TOKEN: 'tok' }, 'no Gatehouse endpoint is set'],
    [{ ...base, GATEHOUSE_PG_URL: 'postgres://app:pw@127.0.0.1/shop' }, 'remove the password'],
    [{ ...base, GATEHOUSE_PG_URL: 'postgres://127.0.0.1/shop' }, 'give the user and the database'],
    [{ ...base, GATEHOUSE_SSH_URL: 'ssh://deploy@gw:2222' }, 'needs GATEHOUSE_SSH_HOST_KEY'],
    [{ ...base, GATEHOUSE_KUBE_URL: 'http://gw:16443' }, 'use https://'],
    [{ ...base, GATEHOUSE_CA_FILE: '/nonexistent/ca.pem' }, 'GATEHOUSE_CA_FILE: cannot read'],
  ])('refuses %j: %s', (env, message) => {
    expect(() => settingsFromEnv(env)).toThrow(message);
  });
});

describe('hostKeyMatcher', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-agent-hostkey-'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'gw', '-f', join(dir, 'k')]);
  const line = readFileSync(join(dir, 'k.pub'), 'utf8').trim();
  const blob = Buffer.from(line.split(' ')[1] as string, 'base64');
  const printed = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(dir, 'k.pub')], {
    encoding: 'utf8',
  }).split(' ')[1] as string;
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'other')]);
  const other = Buffer.from(readFileSync(join(dir, 'other.pub'), 'utf8').split(' ')[1] as string, 'base64');

  it('computes fingerprints as ssh-keygen prints them', () => {
    expect(fingerprint(blob)).toBe(printed);
  });

  it.each([
    ['a public key line', line],
    ['a known_hosts line', `[127.0.0.1]:2222 ${line}`],
    ['a fingerprint', printed],
  ])('accepts the pinned key given as %s, and no other', (_what, pin) => {
    const matches = hostKeyMatcher(pin);
    expect(matches(blob)).toBe(true);
    expect(matches(other)).toBe(false);
  });

  it('refuses a pin that is not a key', () => {
    expect(() => hostKeyMatcher('ssh-ed25519 bm90IGEga2V5')).toThrow('neither');
  });
});
