import { execFile } from 'node:child_process';
import { link, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import { promisify } from 'node:util';
import { ConfigError } from '@gatehouse/core';
import type { PostgresOptions } from './options.js';

const run = promisify(execFile);

/** File of the generated pair, key and certificate in one PEM so that it appears atomically. */
export function selfSignedPath(dataDir: string): string {
  return join(dataDir, 'postgres', 'self-signed.pem');
}

/**
 * TLS contexts for client connections, made once per certificate source and shared by every
 * connection of the module instance.
 */
export class ServerTls {
  readonly #contexts = new Map<string, Promise<SecureContext>>();

  /** The context for these options, or undefined when TLS is off. */
  context(options: PostgresOptions, dataDir: string): Promise<SecureContext> | undefined {
    const tls = options.tls;
    if (tls === false) return undefined;
    const key = tls === 'self-signed' ? `self:${dataDir}` : `files:${tls.cert}\n${tls.key}`;
    let ctx = this.#contexts.get(key);
    if (ctx === undefined) {
      ctx = tls === 'self-signed' ? selfSignedContext(dataDir) : fileContext(tls.cert, tls.key);
      // A failure is not cached: the next connection tries again (a file fixed, a disk freed).
      ctx.catch(() => this.#contexts.delete(key));
      this.#contexts.set(key, ctx);
    }
    return ctx;
  }
}

async function fileContext(certPath: string, keyPath: string): Promise<SecureContext> {
  try {
    const [cert, key] = await Promise.all([readFile(certPath), readFile(keyPath)]);
    return createSecureContext({ cert, key, minVersion: 'TLSv1.2' });
  } catch (err) {
    throw new ConfigError(`cannot load the PostgreSQL TLS certificate: ${(err as Error).message}`, {
      cause: err,
      path: 'options.tls',
    });
  }
}

async function selfSignedContext(dataDir: string): Promise<SecureContext> {
  const file = selfSignedPath(dataDir);
  let pem = await readFile(file, 'utf8').catch(() => undefined);
  if (pem === undefined) {
    await generate(file);
    pem = await readFile(file, 'utf8');
  }
  const key = pem.match(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+?-----END [A-Z ]*PRIVATE KEY-----/)?.[0];
  const cert = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/)?.[0];
  if (key === undefined || cert === undefined) {
    throw new ConfigError(`${file} does not hold a private key and a certificate; remove it to regenerate`);
  }
  return createSecureContext({ key, cert, minVersion: 'TLSv1.2' });
}

/**
 * Generates the pair in a private temporary directory, then links the bundle into place: link
 * fails if the file exists, so of several gateways (or connections) generating at once, the first
 * wins and the others use its pair.
 */
async function generate(file: string): Promise<void> {
  const dir = join(file, '..');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = await mkdtemp(join(dir, '.generating-'));
  try {
    const keyFile = join(tmp, 'key.pem');
    const certFile = join(tmp, 'cert.pem');
    await run(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-days',
        '3650',
        '-subj',
        '/CN=gatehouse-postgres',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
      ],
      { timeout: 30_000 },
    );
    const bundle = join(tmp, 'bundle.pem');
    const [key, cert] = await Promise.all([readFile(keyFile, 'utf8'), readFile(certFile, 'utf8')]);
    await writeFile(bundle, `${key}${cert}`, { mode: 0o600 });
    try {
      await link(bundle, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  } catch (err) {
    throw new ConfigError(
      `cannot generate a self-signed certificate for PostgreSQL TLS: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
