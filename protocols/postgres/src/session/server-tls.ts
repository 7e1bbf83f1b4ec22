import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import { ConfigError } from '@gatehouse/core';
import { certificateHosts, selfSigned } from '@gatehouse/tls';
import type { PostgresOptions } from './options.js';

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
  const { keyPem, certPem } = await selfSigned({
    file: selfSignedPath(dataDir),
    commonName: 'gatehouse-postgres',
    hosts: certificateHosts(''),
    purpose: 'PostgreSQL TLS',
  });
  return createSecureContext({ key: keyPem, cert: certPem, minVersion: 'TLSv1.2' });
}
