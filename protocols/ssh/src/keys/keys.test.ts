import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@gatehouse/core';
import { describe, expect, it } from 'vitest';
import { modernAlgorithms } from './algorithms.js';
import { HostKeyPin } from './host-key-pin.js';
import { generateEd25519Key, hostKeyPath, loadOrCreateHostKey } from './host-key-store.js';
import { fingerprintOf, parsePublicKeyLine } from './public-key.js';
import { utils } from './ssh2.js';

const key = generateEd25519Key('test');
const other = generateEd25519Key('test');
const blob = (k: typeof key) => (utils.parseKey(k.public) as { getPublicSSH(): Buffer }).getPublicSSH();

describe('host key store', () => {
  it('generates readable ed25519 keys every time (ssh2 alone fails about once in 256)', () => {
    for (let i = 0; i < 600; i++) {
      const pair = generateEd25519Key('t');
      expect(utils.parseKey(pair.private)).not.toBeInstanceOf(Error);
      expect(utils.parseKey(pair.public)).not.toBeInstanceOf(Error);
    }
  });

  it('creates one 0600 ed25519 key under <dataDir>/ssh and reuses it, also under concurrent first use', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-hostkey-'));
    const keys = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateHostKey(dir)));
    expect(new Set(keys).size).toBe(1);
    expect(readFileSync(hostKeyPath(dir), 'utf8')).toBe(keys[0]);
    expect(statSync(hostKeyPath(dir)).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'ssh')).mode & 0o777).toBe(0o700);
    expect(await loadOrCreateHostKey(dir)).toBe(keys[0]);
  });

  it('refuses a key other users can read, and a file that is not an ed25519 private key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-hostkey-'));
    await loadOrCreateHostKey(dir);
    chmodSync(hostKeyPath(dir), 0o644);
    await expect(loadOrCreateHostKey(dir)).rejects.toThrow(/accessible by other users/);
    writeFileSync(hostKeyPath(dir), key.public, { mode: 0o600 });
    chmodSync(hostKeyPath(dir), 0o600);
    await expect(loadOrCreateHostKey(dir)).rejects.toBeInstanceOf(ConfigError);
  });
});

describe('pinned upstream host key', () => {
  it('matches the pinned key given as a public key or a known_hosts line', () => {
    for (const text of [
      key.public,
      `[db.internal]:2222,10.0.0.5 ${key.public}`,
      `|1|abc=|def= ${key.public}`,
    ]) {
      const pin = HostKeyPin.parse(text);
      expect(pin.matches(blob(key))).toBe(true);
      expect(pin.matches(blob(other))).toBe(false);
      expect(pin.algorithms).toEqual(['ssh-ed25519']);
    }
  });

  it('matches by SHA256 fingerprint, as ssh-keygen -l prints it', () => {
    const pin = HostKeyPin.parse(fingerprintOf(blob(key)));
    expect(pin.matches(blob(key))).toBe(true);
    expect(pin.matches(blob(other))).toBe(false);
    expect(pin.algorithms).toContain('rsa-sha2-512');
    expect(pin.algorithms).not.toContain('ssh-rsa');
  });

  it.each(['', 'ssh-ed25519', 'SHA256:short', `@cert-authority * ${key.public}`, 'ssh-ed25519 AAAAnotakey'])(
    'refuses %j',
    (text) => {
      expect(() => HostKeyPin.parse(text)).toThrow(ConfigError);
    },
  );

  it('parses public key lines and knows their type', () => {
    const parsed = parsePublicKeyLine(`${key.public} comment here`);
    expect(typeof parsed === 'string' ? parsed : parsed.type).toBe('ssh-ed25519');
    expect(
      parsePublicKeyLine('ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIJTtLJP5emen/T78VNkZgxIfx/xuSL5SxBGWJTPlxNbq'),
    ).toMatch(/type ssh-ed25519|does not parse/);
  });
});

describe('algorithms', () => {
  it('offers no CBC, no SHA-1 and, on request, nothing Terrapin can attack without strict kex', () => {
    const all = modernAlgorithms({ serverHostKey: ['ssh-ed25519'] });
    const text = JSON.stringify(all);
    expect(text).not.toMatch(/cbc|sha1|md5|arcfour|3des|group1-|group14-sha1|ssh-rsa"/);
    expect(all.cipher).toContain('aes256-gcm@openssh.com');
    const safe = modernAlgorithms({ serverHostKey: ['ssh-ed25519'], terrapinSafeOnly: true });
    expect(JSON.stringify(safe)).not.toMatch(/chacha20|etm/);
    expect(safe.hmac).toEqual(['hmac-sha2-256', 'hmac-sha2-512']);
  });
});
