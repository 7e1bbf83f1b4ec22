import { ConfigError } from '@gatehouse/core';
import { describe, expect, it } from 'vitest';
import { generateEd25519Key } from './keys/host-key-store.js';
import {
  checkSshConnection,
  DEFAULT_SSH_OPTIONS,
  parseSshOptions,
  parseSshUpstream,
  upstreamAccount,
} from './options.js';

const key = generateEd25519Key('test').public;

describe('ssh options', () => {
  it('defaults every setting', () => {
    expect(parseSshOptions({})).toEqual({ ...DEFAULT_SSH_OPTIONS, allowedUsers: undefined, publicKeys: [] });
  });

  it('reads durations in ms or as text, and falls back on nonsense', () => {
    const o = parseSshOptions({ handshakeTimeoutMs: 1500, upstreamTimeout: '3s', keepaliveInterval: '0s' });
    expect(o).toMatchObject({ handshakeTimeoutMs: 1500, upstreamTimeoutMs: 3000, keepaliveIntervalMs: 0 });
    expect(parseSshOptions({ handshakeTimeoutMs: -1 }).handshakeTimeoutMs).toBe(10_000);
    // The connection's own setting wins over the gateway-wide default the runtime adds.
    expect(parseSshOptions({ handshakeTimeoutMs: 10_000, handshakeTimeout: '3s' }).handshakeTimeoutMs).toBe(
      3000,
    );
  });

  it('binds public keys to identities', () => {
    const o = parseSshOptions({ publicKeys: [{ key: `${key} ci`, subject: 'ci-bot', groups: ['ci'] }] });
    expect(o.publicKeys[0]).toMatchObject({
      subject: 'ci-bot',
      groups: ['ci'],
      key: { type: 'ssh-ed25519' },
    });
  });

  it.each([
    [{ publicKeys: [{ key: 'nope', subject: 's' }] }, /publicKeys\[0\]\.key/],
    [{ publicKeys: [{ key, subject: '' }] }, /subject/],
    [{ publicKeys: [{ key, subject: 's', group: ['x'] }] }, /publicKeys\[0\]\.group: unknown key/],
    [
      {
        publicKeys: [
          { key, subject: 'a' },
          { key, subject: 'b' },
        ],
      },
      /bound twice/,
    ],
    [{ allowedUsers: [] }, /allowedUsers/],
    [{ allowedUsers: ['root; rm'] }, /allowedUsers\[0\]/],
    [{ allowedusers: ['x'] }, /options\.allowedusers: unknown SSH option/],
  ])('refuses %j', (options, message) => {
    expect(() => parseSshOptions(options)).toThrow(ConfigError);
    expect(() => parseSshOptions(options)).toThrow(message);
  });
});

describe('ssh upstream', () => {
  it('needs a credential and a pinned host key', () => {
    expect(() => parseSshUpstream({ host: 'h', hostKey: key })).toThrow(/privateKey or a password/);
    expect(() => parseSshUpstream({ host: 'h', password: 'p' })).toThrow(/must be pinned/);
    expect(parseSshUpstream({ host: 'h', password: 'p', hostKey: key })).toMatchObject({
      host: 'h',
      port: 22,
    });
  });

  it('checks a whole connection up front', () => {
    expect(() =>
      checkSshConnection({ options: {}, upstream: { host: 'h', password: 'p', hostKey: key } }),
    ).not.toThrow();
    expect(() => checkSshConnection({ options: { publicKeys: 'x' }, upstream: {} })).toThrow(ConfigError);
  });

  it('maps login names to upstream accounts as the connection allows', () => {
    expect(upstreamAccount('anyone', { allowedUsers: undefined }, { user: 'app' })).toEqual({ user: 'app' });
    expect(upstreamAccount('ops', { allowedUsers: ['ops'] }, { user: 'app' })).toEqual({ user: 'ops' });
    expect(upstreamAccount('root', { allowedUsers: ['ops'] }, { user: 'app' })).toHaveProperty('refused');
    expect(upstreamAccount('x', { allowedUsers: undefined }, { user: undefined })).toHaveProperty('refused');
  });
});
