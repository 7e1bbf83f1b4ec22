import { createHash } from 'node:crypto';

/**
 * A check of the SSH server's host key against a pin: an OpenSSH public key (`ssh-ed25519 AAAA…`,
 * also as a known_hosts line) or its `SHA256:…` fingerprint as `ssh-keygen -l` prints it. The
 * agent sends its token as the SSH password, so it must know it is talking to the gateway.
 */
export function hostKeyMatcher(pin: string): (key: Buffer) => boolean {
  const trimmed = pin.trim();
  if (trimmed.startsWith('SHA256:')) {
    const want = trimmed.replace(/=+$/, '');
    return (key) => fingerprint(key) === want;
  }
  const blob = publicKeyBlob(trimmed);
  if (blob === undefined) {
    throw new Error('the SSH host key pin is neither an OpenSSH public key nor a SHA256: fingerprint');
  }
  return (key) => key.equals(blob);
}

export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The base64 key after its type, wherever the line puts them (known_hosts lines start with hosts). */
function publicKeyBlob(line: string): Buffer | undefined {
  const words = line.split(/\s+/);
  for (let i = 0; i + 1 < words.length; i++) {
    const type = words[i] as string;
    const data = words[i + 1] as string;
    if (!/^(ssh-|ecdsa-|sk-)/.test(type) || !/^[A-Za-z0-9+/]+={0,2}$/.test(data)) continue;
    const blob = Buffer.from(data, 'base64');
    // The blob starts with its own type name; a mismatch means this was not a key.
    const length = blob.length >= 4 ? blob.readUInt32BE(0) : -1;
    if (length > 0 && blob.subarray(4, 4 + length).toString('latin1') === type) return blob;
  }
  return undefined;
}
