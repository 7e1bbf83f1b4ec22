import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { certificateHosts, selfSigned } from './self-signed.js';

const dirs: string[] = [];
const dir = () => {
  const d = mkdtempSync(join(tmpdir(), 'gatehouse-self-signed-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('selfSigned', () => {
  it('generates one pair for concurrent callers, names every host, and marks a CA on request', async () => {
    const file = join(dir(), 'sub', 'cert.pem');
    const spec = {
      file,
      commonName: 'gw',
      hosts: certificateHosts('10.0.0.7', ['gw.example.com']),
      ca: true,
      purpose: 'tests',
    };
    const pairs = await Promise.all([selfSigned(spec), selfSigned(spec), selfSigned(spec)]);
    expect(new Set(pairs.map((p) => p.certPem)).size).toBe(1);
    const cert = new X509Certificate((pairs[0] as { certPem: string }).certPem);
    expect(cert.subject).toBe('CN=gw');
    expect(cert.ca).toBe(true);
    for (const name of ['DNS:localhost', 'IP Address:127.0.0.1', 'IP Address:10.0.0.7', 'DNS:gw.example.com'])
      expect(cert.subjectAltName).toContain(name);
    expect(
      cert.checkPrivateKey(
        (await import('node:crypto')).createPrivateKey((pairs[0] as { keyPem: string }).keyPem),
      ),
    ).toBe(true);
  }, 30_000);

  it('reuses the file it finds, and refuses a file that holds no pair', async () => {
    const d = dir();
    const plain = await selfSigned({
      file: join(d, 'a.pem'),
      commonName: 'a',
      hosts: ['localhost'],
      purpose: 'tests',
    });
    expect(
      (await selfSigned({ file: join(d, 'a.pem'), commonName: 'other', hosts: [], purpose: 'tests' }))
        .certPem,
    ).toBe(plain.certPem);
    writeFileSync(join(d, 'junk.pem'), 'not a certificate\n');
    await expect(
      selfSigned({ file: join(d, 'junk.pem'), commonName: 'a', hosts: ['localhost'], purpose: 'tests' }),
    ).rejects.toThrow(/does not hold a private key and a certificate; remove it to regenerate/);
  }, 30_000);

  it('lists loopbacks, the listen host unless it is a wildcard, and extras once', () => {
    expect(certificateHosts('0.0.0.0', ['localhost'])).toEqual(['localhost', '127.0.0.1', '::1']);
    expect(certificateHosts('::')).toEqual(['localhost', '127.0.0.1', '::1']);
  });
});
