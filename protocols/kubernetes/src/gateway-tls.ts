/**
 * The certificate clients see: configured files, or a self-signed one generated once per
 * connection into `<dataDir>/kubernetes/<connection>.pem` (key and certificate in one file, so it
 * appears atomically). `gatehouse kubeconfig` reads the same file to put the CA into kubeconfigs.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import { ConfigError } from '@gatehouse/core';
import { certificateHosts, selfSigned } from '@gatehouse/tls';
import type { KubernetesOptions } from './options.js';

export { certificateHosts };

export interface GatewayCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  /** What clients should trust: the configured `ca`, or the certificate itself. */
  readonly caPem: string;
  /** Where it came from, for messages. */
  readonly source: string;
}

export function selfSignedPath(dataDir: string, connection: string): string {
  return join(dataDir, 'kubernetes', `${connection}.pem`);
}

export async function loadGatewayCertificate(input: {
  readonly options: KubernetesOptions;
  readonly dataDir: string;
  readonly connection: string;
  readonly listenHost: string;
}): Promise<GatewayCertificate> {
  const { options } = input;
  if (options.tls !== 'self-signed') {
    const { cert, key, ca } = options.tls;
    try {
      const [certPem, keyPem, caPem] = await Promise.all([
        readFile(cert, 'utf8'),
        readFile(key, 'utf8'),
        ca === undefined ? undefined : readFile(ca, 'utf8'),
      ]);
      return { certPem, keyPem, caPem: caPem ?? certPem, source: cert };
    } catch (err) {
      throw new ConfigError(`cannot load the Kubernetes TLS certificate: ${(err as Error).message}`, {
        cause: err,
        path: 'options.tls',
      });
    }
  }
  const file = selfSignedPath(input.dataDir, input.connection);
  const { keyPem, certPem } = await selfSigned({
    file,
    commonName: `gatehouse-kubernetes-${input.connection}`,
    hosts: certificateHosts(input.listenHost, options.tlsHosts),
    ca: true,
    purpose: 'Kubernetes TLS',
  });
  return { certPem, keyPem, caPem: certPem, source: file };
}

/** Secure contexts, built once per certificate and shared by the connections of a module instance. */
export class GatewayTls {
  readonly #contexts = new Map<string, Promise<SecureContext>>();

  context(input: Parameters<typeof loadGatewayCertificate>[0]): Promise<SecureContext> {
    const { tls } = input.options;
    const key =
      tls === 'self-signed' ? `self:${input.dataDir}:${input.connection}` : `files:${tls.cert}\n${tls.key}`;
    let ctx = this.#contexts.get(key);
    if (ctx === undefined) {
      ctx = loadGatewayCertificate(input).then((c) =>
        createSecureContext({ cert: c.certPem, key: c.keyPem, minVersion: 'TLSv1.2' }),
      );
      // A failure is not cached: the next connection tries again (a file fixed, a disk freed).
      ctx.catch(() => this.#contexts.delete(key));
      this.#contexts.set(key, ctx);
    }
    return ctx;
  }
}
