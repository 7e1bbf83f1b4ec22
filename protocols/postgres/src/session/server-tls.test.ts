import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_POSTGRES_OPTIONS } from './options.js';
import { ServerTls, selfSignedPath } from './server-tls.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('ServerTls', () => {
  it('generates one self-signed pair when several gateways ask at once, and reuses it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-tls-'));
    dirs.push(dataDir);
    const gateways = [new ServerTls(), new ServerTls(), new ServerTls()];
    await Promise.all(
      gateways.flatMap((g) => [
        g.context(DEFAULT_POSTGRES_OPTIONS, dataDir),
        g.context(DEFAULT_POSTGRES_OPTIONS, dataDir),
      ]),
    );
    const pem = readFileSync(selfSignedPath(dataDir), 'utf8');
    expect(pem.match(/BEGIN CERTIFICATE/g)).toHaveLength(1);
    expect(pem.match(/BEGIN [A-Z ]*PRIVATE KEY/g)).toHaveLength(1);
    await new ServerTls().context(DEFAULT_POSTGRES_OPTIONS, dataDir);
    expect(readFileSync(selfSignedPath(dataDir), 'utf8')).toBe(pem);
  }, 30_000);

  it('is off with tls: false, and names the option when configured files are missing', async () => {
    const tls = new ServerTls();
    expect(tls.context({ ...DEFAULT_POSTGRES_OPTIONS, tls: false }, '/nowhere')).toBeUndefined();
    const missing = tls.context(
      { ...DEFAULT_POSTGRES_OPTIONS, tls: { cert: '/nowhere/c.pem', key: '/nowhere/k.pem' } },
      '/x',
    );
    await expect(missing).rejects.toThrow(/cannot load the PostgreSQL TLS certificate/);
  });
});
