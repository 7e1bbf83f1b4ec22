import { randomUUID } from 'node:crypto';
import { chmod, link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Clock, ConfigError, systemClock } from '@gatehouse/core';
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JSONWebKeySet,
  type JWK,
  SignJWT,
} from 'jose';

export const DEV_ISSUER_DEFAULT_ISSUER = 'urn:gatehouse:dev';
export const DEV_ISSUER_DEFAULT_AUDIENCE = 'gatehouse';
export const DEV_TOKEN_DEFAULT_TTL_MS = 15 * 60_000;
export const DEV_TOKEN_MAX_TTL_MS = 24 * 60 * 60_000;

const ALGORITHM = 'EdDSA';
const KEY_DIR = 'dev-issuer';
const KEY_FILE = 'signing-key.jwk.json';
const RESERVED_CLAIMS = new Set(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'groups']);

export interface DevIssuerOptions {
  /** Default `urn:gatehouse:dev`. */
  issuer?: string;
  /** Default `gatehouse`. */
  audience?: string;
  /** Time source for `iat`/`exp`. */
  clock?: Clock;
}

export interface DevTokenRequest {
  sub: string;
  groups?: readonly string[];
  /** Lifetime in milliseconds: at least 1 s, at most 24 h. Default 15 min. */
  ttl?: number;
  /** Overrides the issuer's default audience for this token. */
  audience?: string;
  /** Extra claims; the registered ones and `groups` have their own options and are refused here. */
  claims?: Readonly<Record<string, unknown>>;
}

/** A local token issuer for demos and tests, so that no external IdP is needed. */
export interface DevIssuer {
  readonly issuer: string;
  readonly audience: string;
  /** `kid` of the signing key (its JWK thumbprint). */
  readonly kid: string;
  issue(request: DevTokenRequest): Promise<string>;
  /** Public half of the signing key, as a key set. */
  publicJwks(): JSONWebKeySet;
}

/** Directory that holds the development issuer's key inside a data directory. */
export function devIssuerKeyPath(dataDir: string): string {
  return join(dataDir, KEY_DIR, KEY_FILE);
}

/**
 * Loads the development issuer's key from `<dataDir>/dev-issuer/`, creating it on first use. Used
 * by the gateway when the config enables the development issuer and by `gatehouse token issue`, so
 * that a first run works in either order. Concurrent first uses agree on one key: each writes its
 * candidate to a private temporary file and hard-links it into place, which fails for all but the
 * first; everyone then reads the file that won.
 */
export async function loadOrCreateDevIssuer(
  dataDir: string,
  options: DevIssuerOptions = {},
): Promise<DevIssuer> {
  const dir = join(dataDir, KEY_DIR);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await restrictDirectory(dir);
  } catch (cause) {
    const code = (cause as { code?: string }).code ?? 'error';
    throw new ConfigError(`development issuer directory ${dir} could not be prepared (${code})`, { cause });
  }
  const file = join(dir, KEY_FILE);
  if (!(await exists(file))) await createKeyFile(dir, file);
  return loadDevIssuer(dataDir, options);
}

/** Loads an existing development issuer key; rejects with a ConfigError when there is none. */
export async function loadDevIssuer(dataDir: string, options: DevIssuerOptions = {}): Promise<DevIssuer> {
  const file = devIssuerKeyPath(dataDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    if ((cause as { code?: string }).code === 'ENOENT') {
      throw new ConfigError(
        `no development issuer key at ${file}; run \`gatehouse token issue\` or start the gateway with the development issuer enabled to create one`,
        { cause },
      );
    }
    throw new ConfigError(`development issuer key ${file} could not be read`, { cause });
  }
  await checkKeyFileMode(file);
  const jwk = parseKey(text, file);
  const privateKey = await importJWK(jwk, ALGORITHM);
  const publicJwk: JWK = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, kid: jwk.kid, alg: ALGORITHM, use: 'sig' };
  return makeIssuer({
    issuer: options.issuer ?? DEV_ISSUER_DEFAULT_ISSUER,
    audience: options.audience ?? DEV_ISSUER_DEFAULT_AUDIENCE,
    clock: options.clock ?? systemClock,
    kid: jwk.kid as string,
    privateKey,
    publicJwk,
  });
}

interface IssuerParts {
  issuer: string;
  audience: string;
  clock: Clock;
  kid: string;
  privateKey: Awaited<ReturnType<typeof importJWK>>;
  publicJwk: JWK;
}

function makeIssuer(parts: IssuerParts): DevIssuer {
  if (parts.issuer === '')
    throw new ConfigError('development issuer name must not be empty', { path: 'issuer' });
  if (parts.audience === '')
    throw new ConfigError('development issuer audience must not be empty', { path: 'audience' });
  return {
    issuer: parts.issuer,
    audience: parts.audience,
    kid: parts.kid,
    publicJwks: () => ({ keys: [{ ...parts.publicJwk }] }),
    async issue(request: DevTokenRequest): Promise<string> {
      const {
        sub,
        groups = [],
        ttl = DEV_TOKEN_DEFAULT_TTL_MS,
        audience = parts.audience,
        claims = {},
      } = request;
      if (typeof sub !== 'string' || sub === '')
        throw new ConfigError('sub must be a non-empty string', { path: 'sub' });
      if (!Array.isArray(groups) || !groups.every((g) => typeof g === 'string' && g !== '')) {
        throw new ConfigError('groups must be a list of non-empty strings', { path: 'groups' });
      }
      if (!Number.isFinite(ttl) || ttl < 1000 || ttl > DEV_TOKEN_MAX_TTL_MS) {
        throw new ConfigError(`ttl must be between 1 s and ${DEV_TOKEN_MAX_TTL_MS / 3_600_000} h`, {
          path: 'ttl',
        });
      }
      const reserved = Object.keys(claims).filter((name) => RESERVED_CLAIMS.has(name));
      if (reserved.length > 0) {
        throw new ConfigError(`claims may not set ${reserved.join(', ')}; use the dedicated options`, {
          path: 'claims',
        });
      }
      const iat = Math.floor(parts.clock.now().getTime() / 1000);
      return new SignJWT({ ...claims, groups: [...groups] })
        .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT', kid: parts.kid })
        .setIssuer(parts.issuer)
        .setAudience(audience)
        .setSubject(sub)
        .setIssuedAt(iat)
        .setExpirationTime(iat + Math.round(ttl / 1000))
        .setJti(randomUUID())
        .sign(parts.privateKey);
    },
  };
}

async function createKeyFile(dir: string, file: string): Promise<void> {
  const { privateKey } = await generateKeyPair(ALGORITHM, { extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x } as JWK);
  const content = `${JSON.stringify({ ...jwk, kid, alg: ALGORITHM, use: 'sig' }, null, 2)}\n`;
  const tmp = join(dir, `.${KEY_FILE}.${process.pid}.${randomUUID()}.tmp`);
  await writeFile(tmp, content, { mode: 0o600, flag: 'wx', flush: true });
  try {
    await link(tmp, file);
  } catch (err) {
    // Someone else created the key first; theirs is the one everybody uses.
    if ((err as { code?: string }).code !== 'EEXIST') {
      throw new ConfigError(`could not create development issuer key ${file}`, { cause: err });
    }
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

function parseKey(text: string, file: string): JWK & { kid: string } {
  let jwk: unknown;
  try {
    jwk = JSON.parse(text);
  } catch {
    throw new ConfigError(`development issuer key ${file} is not valid JSON`);
  }
  const k = jwk as Record<string, unknown>;
  if (
    typeof jwk !== 'object' ||
    jwk === null ||
    k['kty'] !== 'OKP' ||
    k['crv'] !== 'Ed25519' ||
    typeof k['d'] !== 'string' ||
    typeof k['x'] !== 'string' ||
    typeof k['kid'] !== 'string'
  ) {
    throw new ConfigError(`development issuer key ${file} is not an Ed25519 private JWK with a kid`);
  }
  return jwk as JWK & { kid: string };
}

// Like ssh with its private keys: a key others can read is refused rather than silently trusted.
async function checkKeyFileMode(file: string): Promise<void> {
  if (process.platform === 'win32') return;
  const { mode } = await stat(file);
  if ((mode & 0o077) !== 0) {
    throw new ConfigError(
      `development issuer key ${file} is accessible by other users (mode ${(mode & 0o777).toString(8)}); run chmod 600 on it`,
    );
  }
}

async function restrictDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const { mode } = await stat(dir);
  if ((mode & 0o077) !== 0) await chmod(dir, 0o700);
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}
