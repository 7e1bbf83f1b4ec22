/**
 * Self-signed certificates for the gateway's TLS listeners, generated once with `openssl` into a
 * file of the data directory (key and certificate in one PEM, so the pair appears atomically) and
 * reused on every start.
 */
import { execFile } from 'node:child_process';
import { link, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { ConfigError } from '@gatehouse/core';

const run = promisify(execFile);

export interface SelfSignedSpec {
  /** Where the bundle lives, e.g. `<dataDir>/postgres/self-signed.pem`. */
  readonly file: string;
  readonly commonName: string;
  /** DNS names and IP addresses for subjectAltName. */
  readonly hosts: readonly string[];
  /** Mark the certificate as its own CA, so clients can pin it as their trust root. */
  readonly ca?: boolean;
  /** What it is for, in error messages: "PostgreSQL TLS". */
  readonly purpose: string;
}

export interface SelfSignedPair {
  readonly keyPem: string;
  readonly certPem: string;
}

const PEM_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+?-----END [A-Z ]*PRIVATE KEY-----\n?/;
const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/;

/** Names in a generated certificate: localhost, the loopbacks, the listen host, configured extras. */
export function certificateHosts(listenHost: string, extra: readonly string[] = []): string[] {
  const hosts = new Set(['localhost', '127.0.0.1', '::1']);
  if (listenHost !== '' && listenHost !== '0.0.0.0' && listenHost !== '::') hosts.add(listenHost);
  for (const h of extra) hosts.add(h);
  return [...hosts];
}

/** The pair in `spec.file`, generating it first when the file does not exist yet. */
export async function selfSigned(spec: SelfSignedSpec): Promise<SelfSignedPair> {
  let pem = await readFile(spec.file, 'utf8').catch(() => undefined);
  if (pem === undefined) {
    await generate(spec);
    pem = await readFile(spec.file, 'utf8');
  }
  const keyPem = pem.match(PEM_KEY)?.[0];
  const certPem = pem.match(PEM_CERT)?.[0];
  if (keyPem === undefined || certPem === undefined) {
    throw new ConfigError(
      `${spec.file} does not hold a private key and a certificate; remove it to regenerate`,
    );
  }
  return { keyPem, certPem };
}

/**
 * Generates in a private temporary directory, then links the bundle into place: link fails when
 * the file exists, so of several gateways (or connections) generating at once the first wins and
 * the others read its pair.
 */
async function generate(spec: SelfSignedSpec): Promise<void> {
  const dir = dirname(spec.file);
  const altNames = spec.hosts.map((h) => (isIP(h) !== 0 ? `IP:${h}` : `DNS:${h}`)).join(',');
  const caExtensions = spec.ca
    ? [
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,digitalSignature,keyCertSign',
        '-addext',
        'extendedKeyUsage=serverAuth',
      ]
    : [];
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
          `/CN=${spec.commonName}`,
          '-addext',
          `subjectAltName=${altNames}`,
          ...caExtensions,
        ],
        { timeout: 30_000 },
      );
      const bundle = join(tmp, 'bundle.pem');
      const [key, cert] = await Promise.all([readFile(keyFile, 'utf8'), readFile(certFile, 'utf8')]);
      await writeFile(bundle, `${key}${cert}`, { mode: 0o600 });
      try {
        await link(bundle, spec.file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  } catch (err) {
    throw new ConfigError(
      `cannot generate a self-signed certificate for ${spec.purpose}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}
