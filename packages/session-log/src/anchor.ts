import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';

/** The last committed link of the chain, signed with a key the database does not hold. */
export interface Anchor {
  readonly seq: number;
  readonly hash: string;
  readonly mac: string;
}

const KEY_BYTES = 32;

export function anchorPathFor(dbPath: string): string {
  return `${dbPath}.anchor`;
}

export function defaultKeyPathFor(dbPath: string): string {
  return `${dbPath}.key`;
}

/** HMAC-SHA256 over the decimal seq immediately followed by the 64 hex digits of the hash. */
export function anchorMac(key: Buffer, seq: number, hash: string): string {
  return createHmac('sha256', key).update(`${seq}${hash}`).digest('hex');
}

export function macMatches(key: Buffer, anchor: Anchor): boolean {
  const expected = Buffer.from(anchorMac(key, anchor.seq, anchor.hash), 'hex');
  const actual = Buffer.from(anchor.mac, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * Reads the key, creating it on first use. `wx` makes creation exclusive, so two processes
 * starting at once cannot end up with different keys.
 */
export function loadOrCreateKey(keyPath: string): Buffer {
  try {
    return parseKey(readFileSync(keyPath, 'utf8'), keyPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const key = randomBytes(KEY_BYTES);
  let fd: number;
  try {
    fd = openSync(keyPath, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadKey(keyPath);
    throw err;
  }
  try {
    writeSync(fd, `${key.toString('hex')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return key;
}

export function loadKey(keyPath: string): Buffer {
  return parseKey(readFileSync(keyPath, 'utf8'), keyPath);
}

function parseKey(text: string, keyPath: string): Buffer {
  const hex = text.trim();
  if (!/^[0-9a-f]{64}$/i.test(hex)) {
    throw new Error(`anchor key file ${keyPath} does not hold ${KEY_BYTES} hex-encoded bytes`);
  }
  return Buffer.from(hex, 'hex');
}

/** Returns undefined when there is no anchor file; throws when one exists but cannot be used. */
export function readAnchor(anchorPath: string): Anchor | undefined {
  let text: string;
  try {
    text = readFileSync(anchorPath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`anchor file ${anchorPath} is not valid JSON`);
  }
  const a = parsed as Partial<Anchor> | null;
  if (
    a === null ||
    typeof a !== 'object' ||
    !Number.isSafeInteger(a.seq) ||
    (a.seq as number) < 0 ||
    typeof a.hash !== 'string' ||
    !/^[0-9a-f]{64}$/.test(a.hash) ||
    typeof a.mac !== 'string' ||
    !/^[0-9a-f]{64}$/.test(a.mac)
  ) {
    throw new Error(`anchor file ${anchorPath} is malformed`);
  }
  return { seq: a.seq as number, hash: a.hash, mac: a.mac };
}

/**
 * Replaces the anchor atomically: a reader (or a crash) sees the old anchor or the new one, never a
 * torn file. `durable` adds an fsync before the rename so a power cut cannot leave an empty file.
 */
export function writeAnchor(
  anchorPath: string,
  key: Buffer,
  seq: number,
  hash: string,
  durable: boolean,
): void {
  const tmp = `${anchorPath}.tmp`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, anchorText(key, seq, hash));
    if (durable) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, anchorPath);
}

/** writeAnchor off the event loop: creating and syncing a file costs more than a whole commit. */
export async function writeAnchorAsync(
  anchorPath: string,
  key: Buffer,
  seq: number,
  hash: string,
  durable: boolean,
): Promise<void> {
  const tmp = `${anchorPath}.tmp`;
  const file = await open(tmp, 'w', 0o644);
  try {
    await file.writeFile(anchorText(key, seq, hash));
    if (durable) await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, anchorPath);
}

function anchorText(key: Buffer, seq: number, hash: string): string {
  const anchor: Anchor = { seq, hash, mac: anchorMac(key, seq, hash) };
  return `${JSON.stringify(anchor)}\n`;
}
