import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { ConfigError } from '@gatehouse/core';
import { createLocalJWKSet, errors, type JWTVerifyGetKey } from 'jose';
import { type KeySource, type KeySourceContext, KeySourceError } from './key-source.js';
import { assertKeySet } from './remote-jwks.js';

/**
 * Keys from a local JWKS file. The file is read at construction, so that a missing or broken file
 * stops the gateway at start, and re-read on an unknown `kid` (at most once per cooldown) so that
 * rotating keys by replacing the file needs no restart. A broken file at re-read time keeps the
 * keys already loaded.
 */
export function createFileKeySource(path: string, context: KeySourceContext, configPath: string): KeySource {
  let local = parse(
    readInitial(path, configPath),
    path,
    (message) => new ConfigError(message, { path: configPath }),
  );
  let loadedAt = Date.now();
  let reloading: Promise<void> | undefined;

  const reload = (): Promise<void> => {
    reloading ??= readFile(path, 'utf8')
      .then((text) => {
        local = parse(text, path, (message) => new KeySourceError(message));
      })
      .catch((err: unknown) => {
        throw err instanceof KeySourceError
          ? err
          : new KeySourceError(`JWKS file ${path} could not be read`, { cause: err });
      })
      .finally(() => {
        loadedAt = Date.now();
        reloading = undefined;
      });
    return reloading;
  };

  const getKey: JWTVerifyGetKey = async (header, token) => {
    try {
      return await local(header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey) || Date.now() < loadedAt + context.cooldownMs) throw err;
      await reload();
      return local(header, token);
    }
  };
  return { getKey, close() {} };
}

/** A fixed, in-memory key set (the development issuer's public keys). */
export function createStaticKeySource(jwks: unknown, where: string): KeySource {
  const local = parse(
    JSON.stringify(jwks),
    where,
    (message) => new ConfigError(message, { path: 'devIssuer' }),
  );
  return { getKey: local, close() {} };
}

function readInitial(path: string, configPath: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (cause) {
    const code = (cause as { code?: string }).code ?? 'unreadable';
    throw new ConfigError(`JWKS file ${path} could not be read (${code})`, { path: configPath, cause });
  }
}

function parse(
  text: string,
  where: string,
  fail: (message: string) => Error,
): ReturnType<typeof createLocalJWKSet> {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw fail(`JWKS file ${where} is not valid JSON`);
  }
  try {
    assertKeySet(document, `JWKS file ${where}`);
    return createLocalJWKSet(document as Parameters<typeof createLocalJWKSet>[0]);
  } catch (err) {
    throw fail(err instanceof Error ? err.message : `JWKS file ${where} is invalid`);
  }
}
