import { getCiphers, getHashes } from 'node:crypto';
import type { Algorithms } from 'ssh2';

/*
 * Modern algorithms only, for both sides of the gateway.
 *
 * Terrapin (CVE-2023-48795) breaks the integrity of the handshake for chacha20-poly1305 and for
 * encrypt-then-MAC modes unless both peers use "strict key exchange". ssh2 1.17 implements it on
 * both its server and its client (it offers kex-strict-s-v00@openssh.com / kex-strict-c-v00@openssh.com
 * and resets sequence numbers at NEWKEYS), and so do OpenSSH 9.6+ and distribution backports. A peer
 * that does not offer strict kex can still only pick from the lists below, which contain no CBC
 * cipher at all; such a peer could still be attacked through chacha20-poly1305 or the -etm MACs,
 * so `terrapinSafeOnly` drops them for deployments with old clients (see docs/ssh.md).
 */

const KEX = [
  'curve25519-sha256',
  'curve25519-sha256@libssh.org',
  'ecdh-sha2-nistp256',
  'ecdh-sha2-nistp384',
  'ecdh-sha2-nistp521',
  'diffie-hellman-group16-sha512',
  'diffie-hellman-group18-sha512',
  'diffie-hellman-group14-sha256',
] as const;

const CIPHERS: readonly { name: string; openssl: string; terrapin: boolean }[] = [
  { name: 'aes256-gcm@openssh.com', openssl: 'aes-256-gcm', terrapin: false },
  { name: 'aes128-gcm@openssh.com', openssl: 'aes-128-gcm', terrapin: false },
  { name: 'chacha20-poly1305@openssh.com', openssl: 'chacha20', terrapin: true },
  { name: 'aes256-ctr', openssl: 'aes-256-ctr', terrapin: false },
  { name: 'aes192-ctr', openssl: 'aes-192-ctr', terrapin: false },
  { name: 'aes128-ctr', openssl: 'aes-128-ctr', terrapin: false },
];

const MACS: readonly { name: string; terrapin: boolean }[] = [
  { name: 'hmac-sha2-256-etm@openssh.com', terrapin: true },
  { name: 'hmac-sha2-512-etm@openssh.com', terrapin: true },
  { name: 'hmac-sha2-256', terrapin: false },
  { name: 'hmac-sha2-512', terrapin: false },
];

export interface AlgorithmOptions {
  /** Leave out chacha20-poly1305 and the -etm MACs (for peers without strict key exchange). */
  readonly terrapinSafeOnly?: boolean;
  /** Host key algorithms (server: the gateway's key type; client: the pinned key's type). */
  readonly serverHostKey: readonly string[];
}

export function modernAlgorithms(options: AlgorithmOptions): Algorithms {
  const ciphers = new Set(getCiphers());
  const hashes = new Set(getHashes());
  const safe = options.terrapinSafeOnly === true;
  return {
    kex: [...KEX],
    serverHostKey: [...options.serverHostKey] as Algorithms['serverHostKey'],
    cipher: CIPHERS.filter((c) => ciphers.has(c.openssl) && !(safe && c.terrapin)).map(
      (c) => c.name,
    ) as Algorithms['cipher'],
    hmac: MACS.filter(
      (m) => hashes.has(m.name.includes('512') ? 'sha512' : 'sha256') && !(safe && m.terrapin),
    ).map((m) => m.name) as Algorithms['hmac'],
    compress: ['none', 'zlib@openssh.com'],
  };
}
