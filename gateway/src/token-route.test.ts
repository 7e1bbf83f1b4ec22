import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '@gatehouse/config';
import type { Logger } from '@gatehouse/core';
import { createTokenVerifier, loadOrCreateDevIssuer } from '@gatehouse/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistry } from './registry.js';
import { type RunningGateway, startFromConfig } from './runtime.js';

const SECRET = 'agent-secret-0123456789abcdef';

/** Everything the gateway logged, as one string per line, to look for secrets in. */
function recordingLogger(lines: string[]): Logger {
  const record = (level: string) => (obj: object, msg?: string) => {
    lines.push(`${level} ${msg ?? ''} ${JSON.stringify(obj)}`);
  };
  const logger: Logger = {
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
    child: () => logger,
  };
  return logger;
}

async function start(yaml: string, dir: string, lines: string[]): Promise<RunningGateway> {
  const config = parseConfig(yaml, {
    file: 'gatehouse.yaml',
    baseDir: dir,
    env: { AGENT_SECRET: SECRET },
  });
  return startFromConfig(config, { modules: createRegistry([]), logger: recordingLogger(lines) });
}

const CONFIG = `dataDir: ./data
identity:
  devIssuer:
    enabled: true
    clients:
      - id: support-agent
        secret: \${env:AGENT_SECRET}
        subject: agent:support
        groups: [agents]
        ttl: 5m
admin:
  listen: 127.0.0.1:0
`;

describe('the development token endpoint on the admin API', () => {
  let dir: string;
  let running: RunningGateway;
  let url: string;
  const lines: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-token-route-'));
    running = await start(CONFIG, dir, lines);
    const { port } = running.admin!.address();
    url = `http://127.0.0.1:${port}/oauth/token`;
  });

  afterAll(async () => {
    await running?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body,
    });
  const basic = (secret: string) => `Basic ${Buffer.from(`support-agent:${secret}`).toString('base64')}`;

  it('issues a token the gateway accepts, not cached, and logs who got it but not the secret or token', async () => {
    const res = await post('grant_type=client_credentials', { authorization: basic(SECRET) });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('pragma')).toBe('no-cache');
    const body = (await res.json()) as { access_token: string; token_type: string; expires_in: number };
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 300 });
    const issuer = await loadOrCreateDevIssuer(join(dir, 'data'));
    const identity = await createTokenVerifier({ providers: [], devIssuer: issuer }).verify(
      body.access_token,
    );
    expect(identity).toMatchObject({ subject: 'agent:support', groups: ['agents'] });
    const log = lines.join('\n');
    expect(log).toContain('development token issued');
    expect(log).toContain('"client":"support-agent"');
    expect(log).not.toContain(SECRET);
    expect(log).not.toContain(body.access_token);
  });

  it('answers a wrong secret with 401 and a Basic challenge, and logs no secret', async () => {
    const res = await post('grant_type=client_credentials', { authorization: basic(`${SECRET}-wrong`) });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="gatehouse"');
    expect(await res.json()).toMatchObject({ error: 'invalid_client' });
    // A secret typed into the id field is not logged either.
    const pasted = await post(`grant_type=client_credentials&client_id=${SECRET}&client_secret=x`);
    expect(pasted.status).toBe(401);
    const log = lines.join('\n');
    expect(log).toContain('development token request refused');
    expect(log).not.toContain(SECRET);
  });

  it('allows only POST, and refuses oversized bodies', async () => {
    const get = await fetch(url);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const big = await post(`grant_type=client_credentials&pad=${'x'.repeat(20_000)}`, {
      authorization: basic(SECRET),
    });
    expect(big.status).toBe(400);
    expect(await big.json()).toMatchObject({ error: 'invalid_request' });
  });

  it('is not served when no client is configured', async () => {
    const other = await mkdtemp(join(tmpdir(), 'gatehouse-token-route-'));
    const plain = await start(
      'dataDir: ./data\nidentity:\n  devIssuer: { enabled: true }\nadmin:\n  listen: 127.0.0.1:0\n',
      other,
      [],
    );
    try {
      const res = await fetch(`http://127.0.0.1:${plain.admin!.address().port}/oauth/token`, {
        method: 'POST',
        body: 'grant_type=client_credentials',
      });
      expect(res.status).toBe(404);
    } finally {
      await plain.close();
      await rm(other, { recursive: true, force: true });
    }
  });
});
