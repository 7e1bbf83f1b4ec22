import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from './load.js';
import { isProtocol } from './types.js';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-config-'));
const file = join(dir, 'gatehouse.yaml');
writeFileSync(
  join(dir, 'ssh_key'),
  '-----BEGIN OPENSSH PRIVATE KEY-----\nkey-material\n-----END OPENSSH PRIVATE KEY-----\n',
);
writeFileSync(join(dir, 'token.txt'), 'api-token-value\n');

const HOST_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';
const env = { PG_PASSWORD: 'pg-password-value' };

const FULL = `
dataDir: ./state
identity:
  providers:
    - issuer: https://idp.example.com/
      audience: gatehouse
      discovery: true
    - issuer: https://other.example.com
      audience: [a, b]
      jwksFile: keys/jwks.json
      algorithms: [ES256]
      groupsClaim: roles
  groupsClaim: groups
  clockTolerance: 45s
  devIssuer: { enabled: true }
sessionLog:
  synchronous: normal
admin:
  listen: 9191
  adminGroups: [gatehouse-admins]
approvals:
  approverGroups: [dba]
  timeout: 2m
  webhook: { url: "https://hooks.example.com/x", secret: "\${file:token.txt}" }
policies:
  guard:
    rules:
      - { action: deny, sql: { kinds: [drop], pattern: "^drop\\\\s" } }
masking:
  rules: [{ name: pii, columns: [email] }]
logging: { level: debug }
shutdown: { drainTimeout: 1m30s }
limits: { handshakeTimeout: 5s, maxConnectionsPerSource: 10 }
connections:
  - name: orders-db
    protocol: postgres
    listen: 127.0.0.1:15432
    access: { groups: [agents] }
    upstream:
      host: 127.0.0.1
      user: app
      password: \${env:PG_PASSWORD}
      tls: { mode: verify-full, ca: certs/ca.pem }
    policy: { use: [guard], defaultAction: allow }
  - name: bastion
    protocol: ssh
    listen: "[::1]:2222"
    upstream: { host: 10.0.0.5, user: deploy, privateKey: ssh_key, hostKey: "${HOST_KEY}" }
  - name: cluster
    protocol: kubernetes
    listen: 16443
    upstream: { kubeconfig: /etc/gatehouse/kubeconfig, context: prod }
  - name: api
    protocol: http
    listen: 0.0.0.0:18080
    upstream: { url: "http://127.0.0.1:8080", headers: { Authorization: "Bearer \${file:token.txt}" } }
    options: { anything: [1, 2] }
  - name: fake
    protocol: test
    listen: 127.0.0.1:0
    upstream: { host: 127.0.0.1, port: 9 }
`;

function parse(text: string, extra: { env?: Record<string, string> } = {}) {
  return parseConfig(text, { file, env: extra.env ?? env, extraProtocols: ['test'] });
}

describe('parseConfig: a valid file', () => {
  const config = parse(FULL);

  it('applies defaults and resolves paths against the file directory', () => {
    expect(config.file).toBe(file);
    expect(config.dataDir).toBe(join(dir, 'state'));
    expect(config.sessionLog).toEqual({
      path: join(dir, 'state', 'sessions.db'),
      strict: true,
      synchronous: 'normal',
    });
    expect(config.admin).toEqual({
      enabled: true,
      listen: { host: '127.0.0.1', port: 9191 },
      adminGroups: ['gatehouse-admins'],
    });
    expect(config.logging.level).toBe('debug');
    expect(config.shutdown.drainTimeoutMs).toBe(90_000);
    expect(config.limits).toEqual({ handshakeTimeoutMs: 5_000, maxConnectionsPerSource: 10 });
    expect(config.approvals).toEqual({
      approverGroups: ['dba'],
      timeoutMs: 120_000,
      webhook: {
        url: 'https://hooks.example.com/x',
        secret: 'api-token-value',
        timeoutMs: 5_000,
        retries: 3,
      },
    });
  });

  it('normalises identity providers', () => {
    expect(config.identity.clockToleranceMs).toBe(45_000);
    expect(config.identity.devIssuer).toEqual({
      enabled: true,
      issuer: 'urn:gatehouse:dev',
      audience: 'gatehouse',
      clients: [],
    });
    const [first, second] = config.identity.providers;
    expect(first).toMatchObject({
      audience: ['gatehouse'],
      keys: { source: 'discovery', discoveryUrl: 'https://idp.example.com/.well-known/openid-configuration' },
      groupsClaim: 'groups',
      allowInsecureHttp: false,
    });
    expect(first?.algorithms).toContain('RS256');
    expect(first?.algorithms).not.toContain('HS256');
    expect(second).toMatchObject({
      audience: ['a', 'b'],
      keys: { source: 'file', jwksFile: join(dir, 'keys', 'jwks.json') },
      algorithms: ['ES256'],
      groupsClaim: 'roles',
    });
  });

  it('normalises each protocol', () => {
    const [pg, ssh, kube, http, fake] = config.connections;
    expect(pg).toEqual({
      name: 'orders-db',
      protocol: 'postgres',
      listen: { host: '127.0.0.1', port: 15432 },
      access: { groups: ['agents'], subjects: [] },
      upstream: {
        host: '127.0.0.1',
        port: 5432,
        user: 'app',
        password: 'pg-password-value',
        tls: { mode: 'verify-full', ca: join(dir, 'certs', 'ca.pem') },
      },
      policy: { use: ['guard'], rules: [], defaultAction: 'allow' },
      options: {},
    });
    expect(ssh?.listen).toEqual({ host: '::1', port: 2222 });
    expect(ssh?.upstream).toEqual({
      host: '10.0.0.5',
      port: 22,
      user: 'deploy',
      privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\nkey-material\n-----END OPENSSH PRIVATE KEY-----\n',
      hostKey: HOST_KEY,
    });
    expect(kube?.upstream).toEqual({ kubeconfig: '/etc/gatehouse/kubeconfig', context: 'prod' });
    expect(http?.upstream).toEqual({
      url: 'http://127.0.0.1:8080',
      headers: { Authorization: 'Bearer api-token-value' },
    });
    expect(http?.options).toEqual({ anything: [1, 2] });
    expect(fake).toMatchObject({
      protocol: 'test',
      listen: { host: '127.0.0.1', port: 0 },
      upstream: { host: '127.0.0.1', port: 9 },
    });
    if (pg !== undefined && isProtocol(pg, 'postgres')) expect(pg.upstream.tls.mode).toBe('verify-full');
  });

  it('collects secrets: references and secret fields, out of sight', () => {
    expect([...config.secrets].sort()).toEqual(
      [
        'api-token-value',
        'pg-password-value',
        expect.stringContaining('key-material') as unknown as string,
      ].sort(),
    );
    expect(Object.keys(config)).not.toContain('secrets');
  });

  it('is deeply frozen', () => {
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.connections[0]?.upstream)).toBe(true);
    expect(Object.isFrozen(config.identity.providers)).toBe(true);
  });

  it('loads from a file, resolving against its directory', async () => {
    writeFileSync(file, FULL);
    const loaded = await loadConfig(file, { env, extraProtocols: ['test'] });
    expect(loaded.dataDir).toBe(join(dir, 'state'));
  });

  it('fills every default for a minimal file', () => {
    const minimal = parse('connections: []\n');
    expect(minimal.dataDir).toBe(join(dir, '.gatehouse'));
    expect(minimal.sessionLog).toEqual({
      path: join(dir, '.gatehouse', 'sessions.db'),
      strict: true,
      synchronous: 'full',
    });
    expect(minimal.admin).toEqual({
      enabled: true,
      listen: { host: '127.0.0.1', port: 9090 },
      adminGroups: [],
    });
    expect(minimal.identity).toEqual({
      providers: [],
      groupsClaim: 'groups',
      clockToleranceMs: 30_000,
      devIssuer: { enabled: false, issuer: 'urn:gatehouse:dev', audience: 'gatehouse', clients: [] },
    });
    expect(minimal.approvals).toEqual({ approverGroups: [], timeoutMs: 300_000 });
    expect(minimal.policies).toEqual({});
    expect(minimal.masking).toEqual({});
    expect(minimal.logging).toEqual({ level: 'info' });
    expect(minimal.shutdown).toEqual({ drainTimeoutMs: 10_000 });
    expect(minimal.limits).toEqual({ handshakeTimeoutMs: 10_000, maxConnectionsPerSource: 0 });
    expect(minimal.connections).toEqual([]);
    expect(minimal.secrets).toEqual([]);
  });

  it('accepts plain http to a loopback IdP, or anywhere when allowInsecureHttp is set', () => {
    const config = parse(`
identity:
  providers:
    - { issuer: "http://127.0.0.1:8081", audience: a, discovery: true, algorithms: [Ed25519] }
    - { issuer: "https://b", audience: a, jwksUri: "http://localhost:1/jwks" }
    - { issuer: "https://c", audience: a, discoveryUrl: "http://idp.lan/.well-known/x", allowInsecureHttp: true }
`);
    expect(config.identity.providers.map((p) => p.allowInsecureHttp)).toEqual([false, false, true]);
  });

  it('reads a key with nothing after it as absent', () => {
    const config = parse('identity:\npolicies:\nconnections:\n');
    expect(config.identity.providers).toEqual([]);
    expect(config.connections).toEqual([]);
  });

  it('normalises the token endpoint clients of the development issuer, their secrets out of sight', () => {
    const parsed = parseConfig(
      [
        'identity:',
        '  devIssuer:',
        '    enabled: true',
        '    clients:',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a config secret reference
        '      - { id: support-agent, secret: "${env:AGENT_SECRET}", groups: [agents], ttl: 10m }',
        '      - { id: batch, secret: literal-secret-0123456789, subject: "job:batch" }',
      ].join('\n'),
      { file, env: { AGENT_SECRET: 'env-secret-0123456789' } },
    );
    expect(parsed.identity.devIssuer.clients).toEqual([
      {
        id: 'support-agent',
        secret: 'env-secret-0123456789',
        subject: 'support-agent',
        groups: ['agents'],
        ttlMs: 600_000,
      },
      { id: 'batch', secret: 'literal-secret-0123456789', subject: 'job:batch', groups: [], ttlMs: 900_000 },
    ]);
    expect(parsed.secrets).toEqual(
      expect.arrayContaining(['env-secret-0123456789', 'literal-secret-0123456789']),
    );
    expect(JSON.stringify(parsed)).not.toContain('literal-secret-0123456789');
  });

  it('allows the admin port to be reused when the admin API is off', () => {
    const config = parse(`
admin: { enabled: false }
connections:
  - { name: a, protocol: test, listen: 9090, upstream: { host: h, port: 1 } }
`);
    expect(config.admin.enabled).toBe(false);
  });

  it('accepts YAML anchors, merge keys and x- keys to hold them', () => {
    const config = parse(`
x-upstream: &pg { host: 127.0.0.1, user: app }
connections:
  - { name: a, protocol: postgres, listen: 1001, upstream: *pg }
  - { name: b, protocol: postgres, listen: 1002, upstream: { <<: *pg, port: 6543 } }
`);
    expect(config.connections).toHaveLength(2);
  });
});

describe('loadConfig errors', () => {
  it('reports an unreadable config file', async () => {
    const missing = join(dir, 'missing.yaml');
    await expect(loadConfig(missing)).rejects.toMatchObject({
      name: 'ConfigError',
      file: missing,
      path: '',
      message: `${missing}: cannot read the config file: no such file (ENOENT)`,
    });
  });
});
