import { createHash } from 'node:crypto';
import type { ParsedKey } from 'ssh2';
import { utils } from './ssh2.js';

/** An SSH public key as the wire carries it: the algorithm name and the key blob. */
export interface PublicKeyInfo {
  /** Key type from the blob: `ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`, … */
  readonly type: string;
  readonly blob: Buffer;
  /** `SHA256:…` as `ssh-keygen -l` prints it. */
  readonly fingerprint: string;
  readonly parsed: ParsedKey;
}

const KEY_TYPE = /^(ssh-(rsa|dss|ed25519|ed448)|ecdsa-sha2-nistp(256|384|521)|sk-[a-z0-9@.-]+)$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/**
 * Parses an OpenSSH public key (`ssh-ed25519 AAAA… comment`) or a known_hosts line
 * (`host,alias ssh-ed25519 AAAA…`, hashed hosts included). Returns a reason string on failure.
 */
export function parsePublicKeyLine(line: string): PublicKeyInfo | string {
  const tokens = line.trim().split(/\s+/);
  if (tokens[0]?.startsWith('@')) return `known_hosts markers such as ${tokens[0]} are not supported`;
  const at = tokens.findIndex((t, i) => KEY_TYPE.test(t) && BASE64.test(tokens[i + 1] ?? ''));
  if (at === -1) return 'no "<type> <base64>" public key found';
  const type = tokens[at] as string;
  const blob = Buffer.from(tokens[at + 1] as string, 'base64');
  const parsed = utils.parseKey(`${type} ${blob.toString('base64')}`);
  if (parsed instanceof Error) return `the ${type} key does not parse: ${parsed.message}`;
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (key === undefined) return 'the key does not parse';
  if (key.type !== type) return `the key blob is of type ${key.type}, not ${type}`;
  return { type, blob: key.getPublicSSH(), fingerprint: fingerprintOf(key.getPublicSSH()), parsed: key };
}
