import { timingSafeEqual } from 'node:crypto';
import { ConfigError } from '@gatehouse/core';
import { fingerprintOf, parsePublicKeyLine } from './public-key.js';

/** Host key algorithms worth negotiating for each key type (SHA-1 `ssh-rsa` signatures excluded). */
const ALGORITHMS_FOR_TYPE: Readonly<Record<string, readonly string[]>> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256'],
};

const ANY_MODERN = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
];

const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}=?$/;

/**
 * The upstream's host key as the config pins it: the key itself (a known_hosts line or public key)
 * or its SHA-256 fingerprint. A pinned key also narrows the host key algorithms offered to the
 * upstream to that key's type, so that an upstream with several host keys presents the pinned one.
 */
export class HostKeyPin {
  private constructor(
    readonly fingerprint: string,
    readonly type: string | undefined,
    private readonly blob: Buffer | undefined,
  ) {}

  static parse(text: string, path = 'upstream.hostKey'): HostKeyPin {
    const trimmed = text.trim();
    if (FINGERPRINT.test(trimmed)) return new HostKeyPin(trimmed.replace(/=$/, ''), undefined, undefined);
    const key = parsePublicKeyLine(trimmed);
    if (typeof key === 'string') {
      throw new ConfigError(
        `${path}: ${key}; expected a known_hosts line, a public key or a SHA256: fingerprint`,
        {
          path,
        },
      );
    }
    if (ALGORITHMS_FOR_TYPE[key.type] === undefined) {
      throw new ConfigError(`${path}: ${key.type} host keys are not supported`, { path });
    }
    return new HostKeyPin(key.fingerprint, key.type, key.blob);
  }

  /** Host key algorithms to offer the upstream. */
  get algorithms(): string[] {
    return [...(this.type === undefined ? ANY_MODERN : (ALGORITHMS_FOR_TYPE[this.type] ?? ANY_MODERN))];
  }

  matches(blob: Buffer): boolean {
    if (this.blob !== undefined) return blob.length === this.blob.length && timingSafeEqual(blob, this.blob);
    return fingerprintOf(blob) === this.fingerprint;
  }
}
