/**
 * The certificate clients see: configured files, or a self-signed one generated once per
 * connection into `<dataDir>/kubernetes/<connection>.pem` (key and certificate in one file, so it
 * appears atomically). `gatehouse kubeconfig` reads the same file to put the CA into kubeconfigs.
 */
import { execFile } from 'node:child_process';
import { link, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import { promisify } from 'node:util';
import { ConfigError } from '@gatehouse/core';
import type { KubernetesOptions } from './options.js';

const run = promisify(execFile);

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

/** Names in the generated certificate: localhost, the loopbacks, the listen host, configured extras. */
export function certificateHosts(listenHost: string, extra: readonly string[]): string[] {
  const hosts = new Set(['localhost', '127.0.0.1', '::1']);
  if (listenHost !== '' && listenHost !== '0.0.0.0' && listenHost !== '::') hosts.add(listenHost);
  for (const h of extra) hosts.add(h);
  return [...hosts];
}

function subjectAltName(hosts: readonly string[]): string {
  return hosts.map((h) => (isIP(h) !== 0 ? `IP:${h}` : `DNS:${h}`)).join(',');
}

const PEM_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+?-----END [A-Z ]*PRIVATE KEY-----\n?/;
const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/;

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
  let pem = await readFile(file, 'utf8').catch(() => undefined);
  if (pem === undefined) {
    await generate(file, input.connection, certificateHosts(input.listenHost, options.tlsHosts));
    pem = await readFile(file, 'utf8');
  }
  const keyPem = pem.match(PEM_KEY)?.[0];
  const certPem = pem.match(PEM_CERT)?.[0];
  if (keyPem === undefined || certPem === undefined) {
    throw new ConfigError(`${file} does not hold a private key and a certificate; remove it to regenerate`);
  }
  return { certPem, keyPem, caPem: certPem, source: file };
}

/**
 * Generates in a private temporary directory, then links the bundle into place: link fails when
 * the file exists, so of several gateways (or connections) generating at once the first wins and
 * the others read its pair.
 */
async function generate(file: string, connection: string, hosts: readonly string[]): Promise<void> {
  const dir = join(file, '..');
  try {
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
          `/CN=gatehouse-kubernetes-${connection}`,
          '-addext',
          `subjectAltName=${subjectAltName(hosts)}`,
          '-addext',
          'basicConstraints=critical,CA:TRUE',
          '-addext',
          'keyUsage=critical,digitalSignature,keyCertSign',
          '-addext',
          'extendedKeyUsage=serverAuth',
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
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  } catch (err) {
    throw new ConfigError(
      `cannot generate a self-signed certificate for Kubernetes TLS: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
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
