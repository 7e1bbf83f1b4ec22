import { randomUUID } from 'node:crypto';
import { chmod, link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '@gatehouse/core';
import { utils } from './ssh2.js';

const KEY_DIR = 'ssh';
const KEY_FILE = 'host_ed25519';

/** Where the gateway's SSH host key lives inside a data directory. */
export function hostKeyPath(dataDir: string): string {
  return join(dataDir, KEY_DIR, KEY_FILE);
}

/**
 * Loads the gateway's ed25519 host key (OpenSSH private key format) from
 * `<dataDir>/ssh/host_ed25519`, creating it on first use. Concurrent first uses agree on one key:
 * each writes a candidate to a private temporary file and hard-links it into place, which fails for
 * all but the first; everyone then reads the file that won. A key readable by other users is
 * refused, as sshd refuses one.
 */
export async function loadOrCreateHostKey(dataDir: string): Promise<string> {
  const dir = join(dataDir, KEY_DIR);
  const file = join(dir, KEY_FILE);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if (process.platform !== 'win32' && ((await stat(dir)).mode & 0o077) !== 0) await chmod(dir, 0o700);
  } catch (cause) {
    throw new ConfigError(`SSH host key directory ${dir} could not be prepared (${errorCode(cause)})`, {
      cause,
    });
  }
  if (!(await exists(file))) await createKeyFile(dir, file);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new ConfigError(`SSH host key ${file} could not be read (${errorCode(cause)})`, { cause });
  }
  if (process.platform !== 'win32') {
    const { mode } = await stat(file);
    if ((mode & 0o077) !== 0) {
      throw new ConfigError(
        `SSH host key ${file} is accessible by other users (mode ${(mode & 0o777).toString(8)}); run chmod 600 on it`,
      );
    }
  }
  const parsed = utils.parseKey(text);
  if (
    parsed instanceof Error ||
    Array.isArray(parsed) ||
    parsed.type !== 'ssh-ed25519' ||
    !parsed.isPrivateKey()
  ) {
    throw new ConfigError(`SSH host key ${file} is not an unencrypted ed25519 private key`);
  }
  return text;
}

/**
 * ssh2 1.17 drops a leading zero byte of the ed25519 public key when it encodes a generated pair,
 * which yields an unreadable key about once in 256; such a pair is generated again.
 */
export function generateEd25519Key(comment: string): { private: string; public: string } {
  for (let attempt = 0; attempt < 32; attempt++) {
    const pair = utils.generateKeyPairSync('ed25519', { comment });
    const parsed = utils.parseKey(pair.private);
    if (!(parsed instanceof Error) && !(utils.parseKey(pair.public) instanceof Error)) return pair;
  }
  throw new ConfigError('could not generate a readable ed25519 key');
}

async function createKeyFile(dir: string, file: string): Promise<void> {
  const { private: privateKey } = generateEd25519Key('gatehouse host key');
  const tmp = join(dir, `.${KEY_FILE}.${process.pid}.${randomUUID()}.tmp`);
  await writeFile(tmp, privateKey, { mode: 0o600, flag: 'wx', flush: true });
  try {
    await link(tmp, file);
  } catch (err) {
    // Someone else created the key first; theirs is the one everybody uses.
    if ((err as { code?: string }).code !== 'EEXIST') {
      throw new ConfigError(`could not create SSH host key ${file} (${errorCode(err)})`, { cause: err });
    }
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

function errorCode(err: unknown): string {
  return (err as { code?: string }).code ?? 'error';
}
