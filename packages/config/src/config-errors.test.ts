import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, ErrorCode } from '@gatehouse/core';
import { describe, expect, it } from 'vitest';
import { parseConfig } from './load.js';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-config-errors-'));
const file = join(dir, 'gatehouse.yaml');
writeFileSync(join(dir, 'unreadable'), 'x');

const HOST_KEY = 'SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8';

/** One connection per protocol, good except for what a case changes. */
const pg = (extra = '') => `
  - name: orders-db
    protocol: postgres
    listen: 127.0.0.1:15432
    upstream: { host: 127.0.0.1, user: app }${extra}`;

interface Case {
  readonly name: string;
  readonly yaml: string;
  readonly path: string;
  readonly message: string;
  readonly line?: number;
  readonly env?: Record<string, string>;
  readonly extraProtocols?: string[];
}

const cases: Case[] = [
  {
    name: 'unknown protocol',
    yaml: `connections:\n  - { name: a, protocol: mysql, listen: 1, upstream: { host: h } }`,
    path: 'connections[0].protocol',
    message: 'unknown protocol "mysql" (valid: postgres, ssh, kubernetes, http)',
    line: 2,
  },
  {
    name: 'unknown protocol lists the extra ones',
    yaml: `connections:\n  - { name: a, protocol: mysql, listen: 1, upstream: { host: h } }`,
    extraProtocols: ['test'],
    path: 'connections[0].protocol',
    message: 'unknown protocol "mysql" (valid: postgres, ssh, kubernetes, http, test)',
  },
  {
    name: 'duplicate port, same host',
    yaml: `connections:${pg()}\n  - { name: b, protocol: http, listen: 127.0.0.1:15432, upstream: { url: "http://x" } }`,
    path: 'connections[1].listen',
    message: '127.0.0.1:15432 overlaps connections[0].listen (127.0.0.1:15432): two listeners on one port',
    line: 6,
  },
  {
    name: 'duplicate port, wildcard host',
    yaml: `connections:${pg()}\n  - { name: b, protocol: http, listen: "0.0.0.0:15432", upstream: { url: "http://x" } }`,
    path: 'connections[1].listen',
    message: '0.0.0.0:15432 overlaps connections[0].listen (127.0.0.1:15432): two listeners on one port',
  },
  {
    name: 'duplicate port with the admin API',
    yaml: `connections:\n  - { name: b, protocol: http, listen: 9090, upstream: { url: "http://x" } }`,
    path: 'connections[0].listen',
    message: '127.0.0.1:9090 overlaps admin.listen (127.0.0.1:9090): two listeners on one port',
  },
  {
    name: 'duplicate connection name',
    yaml: `connections:${pg()}\n  - { name: orders-db, protocol: http, listen: 1, upstream: { url: "http://x" } }`,
    path: 'connections[1].name',
    message: 'duplicate connection name "orders-db" (also connections[0].name)',
  },
  {
    name: 'missing upstream',
    yaml: `connections:\n  - name: a\n    protocol: postgres\n    listen: 1`,
    path: 'connections[0].upstream',
    message: 'required key "upstream" is missing',
    line: 2,
  },
  {
    name: 'missing required upstream field',
    yaml: `connections:\n  - { name: a, protocol: ssh, listen: 1, upstream: { host: h } }`,
    path: 'connections[0].upstream.hostKey',
    message: 'required key "hostKey" is missing',
  },
  {
    name: 'upstream of an extra protocol needs a port',
    yaml: `connections:\n  - { name: a, protocol: test, listen: 1, upstream: { host: h } }`,
    extraProtocols: ['test'],
    path: 'connections[0].upstream.port',
    message: 'required key "port" is missing',
  },
  {
    name: 'unknown upstream key for the protocol',
    yaml: `connections:\n  - { name: a, protocol: kubernetes, listen: 1, upstream: { kubeconfig: k, url: "http://x" } }`,
    path: 'connections[0].upstream.url',
    message: 'unknown key "url"',
  },
  {
    name: 'bad duration',
    yaml: 'shutdown:\n  drainTimeout: 5 minutes',
    path: 'shutdown.drainTimeout',
    message: 'bad duration "5 minutes" (use e.g. 30s, 5m, 1h)',
    line: 2,
  },
  {
    name: 'duration without a unit',
    yaml: 'limits: { handshakeTimeout: 10 }',
    path: 'limits.handshakeTimeout',
    message: 'bad duration 10 (use e.g. 30s, 5m, 1h)',
  },
  {
    name: 'bad duration in the policy-owned approvals section',
    yaml: 'approvals: { timeout: soon }',
    path: 'approvals.timeout',
    message: 'bad duration "soon" (use e.g. 30s, 5m, 1h)',
  },
  {
    name: 'unknown top-level key, with a suggestion',
    yaml: 'conections: []',
    path: 'conections',
    message: 'unknown key "conections" (did you mean "connections"?)',
    line: 1,
  },
  {
    name: 'unknown nested key, with a suggestion',
    yaml: `connections:${pg()}\n    lisen: 1`,
    path: 'connections[0].lisen',
    message: 'unknown key "lisen" (did you mean "listen"?)',
    line: 6,
  },
  {
    name: 'unknown key with nothing close',
    yaml: 'sessionLog: { colour: blue }',
    path: 'sessionLog.colour',
    message: 'unknown key "colour"',
  },
  {
    name: 'bad listen: not host:port',
    yaml: `connections:\n  - { name: a, protocol: http, listen: "localhost", upstream: { url: "http://x" } }`,
    path: 'connections[0].listen',
    message: 'bad listen address "localhost": expected host:port or a port, e.g. 127.0.0.1:15432',
  },
  {
    name: 'bad listen: unbracketed IPv6',
    yaml: `connections:\n  - { name: a, protocol: http, listen: "::1:80", upstream: { url: "http://x" } }`,
    path: 'connections[0].listen',
    message: 'bad listen address "::1:80": write an IPv6 address in brackets, e.g. [::1]:15432',
  },
  {
    name: 'listen port out of range',
    yaml: `connections:\n  - { name: a, protocol: http, listen: "127.0.0.1:70000", upstream: { url: "http://x" } }`,
    path: 'connections[0].listen',
    message: 'bad listen address "127.0.0.1:70000": port 70000 is out of range (1-65535)',
  },
  {
    name: 'admin listen port out of range, as a number',
    yaml: 'admin: { listen: 70000 }',
    path: 'admin.listen',
    message: 'port 70000 is out of range (1-65535)',
  },
  {
    name: 'upstream port out of range',
    yaml: `connections:\n  - { name: a, protocol: postgres, listen: 1, upstream: { host: h, user: u, port: 0 } }`,
    path: 'connections[0].upstream.port',
    message: 'port 0 is out of range (1-65535)',
  },
  {
    name: 'undefined rule set',
    yaml: `policies:\n  guard: { rules: [] }\nconnections:${pg()}\n    policy: { use: [gaurd] }`,
    path: 'connections[0].policy.use[0]',
    message: 'rule set "gaurd" is not defined (did you mean "guard"?) (defined: guard)',
    line: 8,
  },
  {
    name: 'rule set used when none are defined',
    yaml: `connections:${pg()}\n    policy: { use: [guard] }`,
    path: 'connections[0].policy.use[0]',
    message: 'rule set "guard" is not defined (no rule sets are defined under policies)',
  },
  {
    name: 'bad regex in a connection rule',
    yaml: `connections:${pg()}\n    policy:\n      rules:\n        - { action: deny, sql: { pattern: "(drop" } }`,
    path: 'connections[0].policy.rules[0].sql.pattern',
    message: 'invalid regular expression "(drop": Unterminated group',
    line: 8,
  },
  {
    name: 'bad regex in a global rule set',
    yaml: 'policies:\n  guard:\n    rules:\n      - { action: deny, shell: { pattern: "rm -rf [" } }',
    path: 'policies.guard.rules[0].shell.pattern',
    message: 'invalid regular expression "rm -rf [": Unterminated character class',
  },
  {
    name: 'bad regex in a custom detector',
    yaml: 'masking:\n  detectors:\n    - { name: token, pattern: "tok_[a-z" }',
    path: 'masking.detectors[0].pattern',
    message: 'invalid regular expression "tok_[a-z": Unterminated character class',
  },
  {
    name: 'missing environment variable',
    yaml: `connections:\n  - name: a\n    protocol: postgres\n    listen: 1\n    upstream: { host: h, user: u, password: "\${env:PG_PASSWORD}" }`,
    env: {},
    path: 'connections[0].upstream.password',
    message: 'environment variable PG_PASSWORD is not set',
    line: 5,
  },
  {
    name: 'unreadable secret file',
    yaml: `approvals:\n  webhook: { url: "https://x", secret: "\${file:secrets/hook.txt}" }`,
    path: 'approvals.webhook.secret',
    message: 'cannot read secret file "secrets/hook.txt": no such file (ENOENT)',
  },
  {
    name: 'symmetric token algorithm',
    yaml: 'identity:\n  providers:\n    - { issuer: "https://i", audience: a, discovery: true, algorithms: [HS256] }',
    path: 'identity.providers[0].algorithms[0]',
    message: 'algorithm "HS256" is not allowed: only asymmetric ones',
  },
  {
    name: 'two key sources for a provider',
    yaml: 'identity:\n  providers:\n    - { issuer: "https://i", audience: a, discovery: true, jwksUri: "https://i/jwks" }',
    path: 'identity.providers[0]',
    message: 'give only one key source, not discovery and jwksUri',
  },
  {
    name: 'no key source for a provider',
    yaml: 'identity:\n  providers:\n    - { issuer: "https://i", audience: a }',
    path: 'identity.providers[0]',
    message: 'give one key source: discovery: true, discoveryUrl, jwksUri or jwksFile',
  },
  {
    name: 'plain-http JWKS URL to a remote host',
    yaml: 'identity:\n  providers:\n    - { issuer: "https://i", audience: a, jwksUri: "http://idp.example.com/jwks" }',
    path: 'identity.providers[0].jwksUri',
    message: 'plain http to a non-loopback host lets others substitute signing keys',
  },
  {
    name: 'discovery needs an http(s) issuer',
    yaml: 'identity:\n  providers:\n    - { issuer: "urn:x", audience: a, discovery: true }',
    path: 'identity.providers[0].issuer',
    message: '"urn:x" is not an http:// or https:// URL',
  },
  {
    name: 'clock tolerance too long',
    yaml: 'identity: { clockTolerance: 10m }',
    path: 'identity.clockTolerance',
    message: 'must be at most 5m',
  },
  {
    name: 'one issuer configured twice',
    yaml: 'identity:\n  devIssuer: { enabled: true, issuer: "https://i" }\n  providers:\n    - { issuer: "https://i", audience: a, discovery: true }',
    path: 'identity.providers[0].issuer',
    message: 'issuer "https://i" is already configured at identity.devIssuer.issuer',
  },
  {
    name: 'token endpoint clients without the development issuer',
    yaml: 'identity:\n  devIssuer:\n    clients: [{ id: a, secret: 0123456789abcdef }]',
    path: 'identity.devIssuer.clients',
    message: 'clients get tokens from the development issuer: set identity.devIssuer.enabled: true',
  },
  {
    name: 'token endpoint clients without the admin API',
    yaml: 'admin: { enabled: false }\nidentity:\n  devIssuer:\n    enabled: true\n    clients: [{ id: a, secret: 0123456789abcdef }]',
    path: 'identity.devIssuer.clients',
    message: 'the token endpoint for these clients is served by the admin API: remove admin.enabled: false',
  },
  {
    name: 'a short client secret',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a config secret reference
    yaml: 'identity:\n  devIssuer:\n    enabled: true\n    clients: [{ id: a, secret: "${env:S}" }]',
    env: { S: 'short-pw' },
    path: 'identity.devIssuer.clients[0].secret',
    message: 'must be at least 16 characters: anyone who guesses it gets tokens',
  },
  {
    name: 'a client id given twice',
    yaml: 'identity:\n  devIssuer:\n    enabled: true\n    clients:\n      - { id: a, secret: 0123456789abcdef }\n      - { id: a, secret: 0123456789abcdeg }',
    path: 'identity.devIssuer.clients[1].id',
    message: 'client id "a" is given twice',
  },
  {
    name: 'a client token lifetime over 24h',
    yaml: 'identity:\n  devIssuer:\n    enabled: true\n    clients: [{ id: a, secret: 0123456789abcdef, ttl: 2d }]',
    path: 'identity.devIssuer.clients[0].ttl',
    message: 'must be between 1s and 24h',
  },
  {
    name: 'bad connection name',
    yaml: `connections:\n  - { name: Orders DB, protocol: http, listen: 1, upstream: { url: "http://x" } }`,
    path: 'connections[0].name',
    message: 'a connection name must start with a-z or 0-9 and use only a-z, 0-9, "-" and "_"',
  },
  {
    name: 'non-http upstream URL',
    yaml: `connections:\n  - { name: a, protocol: http, listen: 1, upstream: { url: "ftp://x" } }`,
    path: 'connections[0].upstream.url',
    message: '"ftp://x" is not an http:// or https:// URL',
  },
  {
    name: 'ssh host key in no known form',
    yaml: `connections:\n  - { name: a, protocol: ssh, listen: 1, upstream: { host: h, hostKey: "trust me" } }`,
    path: 'connections[0].upstream.hostKey',
    message: 'expected a known_hosts line or public key',
  },
  {
    name: 'unreadable ssh private key file',
    yaml: `connections:\n  - { name: a, protocol: ssh, listen: 1, upstream: { host: h, hostKey: "${HOST_KEY}", privateKey: keys/id } }`,
    path: 'connections[0].upstream.privateKey',
    message: 'cannot read private key file "keys/id": no such file (ENOENT)',
  },
  {
    name: 'wrong type',
    yaml: 'connections: { name: a }',
    path: 'connections',
    message: 'expected a list, got a mapping',
  },
  {
    name: 'wrong enum value',
    yaml: 'logging: { level: verbose }',
    path: 'logging.level',
    message: 'must be one of: trace, debug, info, warn, error, fatal (got "verbose")',
  },
  {
    name: 'top level is not a mapping',
    yaml: '- a\n- b',
    path: '',
    message: 'expected a mapping, got a list',
  },
  {
    name: 'empty file',
    yaml: '# nothing here\n',
    path: '',
    message: 'the file is empty',
  },
  {
    name: 'YAML syntax error, with line and column',
    yaml: 'admin:\n  listen: [1, 2\nlogging: {}',
    path: '',
    message: 'YAML error: Flow sequence in block collection must be sufficiently indented and end with a ]',
    line: 3,
  },
  {
    name: 'duplicate YAML key',
    yaml: 'logging: {}\nlogging: {}',
    path: '',
    message: 'YAML error: a key appears twice in the same mapping',
    line: 2,
  },
  {
    name: 'several documents',
    yaml: 'logging: {}\n---\nlogging: {}',
    path: '',
    message: 'YAML error: the file holds several documents (---); use one',
  },
];

describe('parseConfig errors', () => {
  it.each(cases)('$name', (c) => {
    let error: unknown;
    try {
      parseConfig(c.yaml, { file, env: c.env ?? {}, extraProtocols: c.extraProtocols ?? [] });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const err = error as ConfigError;
    expect(err.code).toBe(ErrorCode.Config);
    expect(err.file).toBe(file);
    expect(err.path).toBe(c.path);
    const firstLine = err.message.split('\n')[0] ?? '';
    const prefix = c.path === '' ? `${file}: ` : `${file}: ${c.path}: `;
    expect(firstLine.startsWith(prefix + c.message), firstLine).toBe(true);
    if (c.line !== undefined) {
      expect(err.details['line']).toBe(c.line);
      expect(firstLine).toMatch(new RegExp(`\\(line ${c.line}(, column \\d+)?\\)$`));
    }
  });

  it('reports a syntax error with its column', () => {
    try {
      parseConfig('logging:\n  level: [info\n', { file });
    } catch (err) {
      expect((err as ConfigError).message).toMatch(/\(line \d+, column \d+\)$/);
      return;
    }
    throw new Error('expected a ConfigError');
  });

  it('reports every problem of a stage, in file order', () => {
    const yaml = 'logging: { level: loud }\nshutdown: { drainTimeout: forever }\nconections: []\n';
    try {
      parseConfig(yaml, { file });
    } catch (err) {
      const lines = (err as ConfigError).message.split('\n');
      expect(lines).toEqual([
        `${file}: logging.level: must be one of: trace, debug, info, warn, error, fatal (got "loud") (line 1)`,
        `${file}: shutdown.drainTimeout: bad duration "forever" (use e.g. 30s, 5m, 1h) (line 2)`,
        `${file}: conections: unknown key "conections" (did you mean "connections"?) (line 3)`,
      ]);
      expect((err as ConfigError).details['problems']).toHaveLength(3);
      return;
    }
    throw new Error('expected a ConfigError');
  });
});
