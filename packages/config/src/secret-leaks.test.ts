// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are config text with ${env:…} references, not templates
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { ConfigError } from '@gatehouse/core';
import { describe, expect, it } from 'vitest';
import { parseConfig } from './load.js';
import { redactConfig } from './redact.js';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-secret-leaks-'));
const file = join(dir, 'gatehouse.yaml');
const FILE_SECRET = 'file-secret-Zq81';
writeFileSync(join(dir, 'secret.txt'), `${FILE_SECRET}\n`);
const ENV_SECRET = 'env-secret-Xy42';
const LITERAL_PASSWORD = 'literal-password-Wv77';
const env = { SECRET: ENV_SECRET, LISTEN: '127.0.0.1:99999', DUR: 'forever-Qp3' };
const ALL = [ENV_SECRET, FILE_SECRET, LITERAL_PASSWORD, env.LISTEN, env.DUR];

function leaks(text: string): string[] {
  return ALL.filter((secret) => text.includes(secret));
}

const conn = (upstream: string, extra = '') =>
  `connections:\n  - { name: a, protocol: postgres, listen: 1, upstream: ${upstream}${extra} }\n`;

describe('secret values never appear in errors', () => {
  it.each([
    [
      'as a protocol',
      'connections:\n  - { name: a, protocol: "${env:SECRET}", listen: 1, upstream: { host: h } }',
    ],
    ['as a log level', 'logging: { level: "${env:SECRET}" }'],
    ['as a duration', 'shutdown: { drainTimeout: "${env:DUR}" }'],
    ['as a policy duration', 'approvals: { timeout: "${env:DUR}" }'],
    ['as a listen address', conn('{ host: h, user: u }').replace('listen: 1', 'listen: "${env:LISTEN}"')],
    ['inside a listen address', 'admin: { listen: "${env:SECRET}:99999" }'],
    ['as a regex', 'masking: { detectors: [{ name: d, pattern: "(${env:SECRET}" }] }'],
    [
      'as a rule set name',
      `policies: { guard: { rules: [] } }\n${conn('{ host: h, user: u }', ', policy: { use: ["${file:secret.txt}"] }')}`,
    ],
    ['as a URL', 'approvals: { webhook: { url: "ftp://${env:SECRET}" } }'],
    [
      'as a connection name',
      'connections:\n  - { name: "${env:SECRET} x", protocol: http, listen: 1, upstream: { url: "http://x" } }',
    ],
    ['as an unknown key value', 'sessionLog: { colour: "${env:SECRET}" }'],
    [
      'a literal password next to another mistake',
      `${conn(`{ host: h, user: u, password: ${LITERAL_PASSWORD} }`)}\n  - { name: b, protocol: http, listen: "${LITERAL_PASSWORD}:99999", upstream: { url: "http://x" } }`,
    ],
    [
      'a literal password found after the mistake that quotes it',
      `connections:\n  - { name: b, protocol: http, listen: "${LITERAL_PASSWORD}:99999", upstream: { url: "http://x" } }\n  - { name: a, protocol: postgres, listen: 2, upstream: { host: h, user: u, password: ${LITERAL_PASSWORD} } }`,
    ],
    [
      'with a reference that fails next to one that works',
      'logging: { level: "${env:SECRET}" }\nadmin: { listen: "${env:NOPE}" }',
    ],
  ])('%s', (_name, yaml) => {
    let error: unknown;
    try {
      parseConfig(yaml, { file, env });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const err = error as ConfigError;
    expect(leaks(err.message)).toEqual([]);
    expect(leaks(String(err.stack))).toEqual([]);
    expect(leaks(JSON.stringify(err.details))).toEqual([]);
    expect(leaks(err.path ?? '')).toEqual([]);
  });
});

describe('secret values never appear in printed config', () => {
  const yaml = `
masking: { hashKey: "\${env:SECRET}" }
connections:
  - name: db
    protocol: postgres
    listen: 15432
    upstream: { host: h, user: u, password: ${LITERAL_PASSWORD} }
  - name: api
    protocol: http
    listen: 18080
    upstream: { url: "http://x", headers: { Authorization: "Bearer \${file:secret.txt}" } }
`;
  const config = parseConfig(yaml, { file, env });

  it('keeps them available to the gateway', () => {
    expect([...config.secrets].sort()).toEqual([ENV_SECRET, FILE_SECRET, LITERAL_PASSWORD].sort());
    expect(config.masking.hashKey).toBe(ENV_SECRET);
    expect(config.connections[1]?.upstream).toMatchObject({
      headers: { Authorization: `Bearer ${FILE_SECRET}` },
    });
  });

  it('JSON.stringify of the config or of any part of it is redacted', () => {
    expect(leaks(JSON.stringify(config))).toEqual([]);
    expect(leaks(JSON.stringify(config.connections))).toEqual([]);
    expect(leaks(JSON.stringify(config.connections[0]?.upstream))).toEqual([]);
    expect(leaks(JSON.stringify({ wrapped: config.masking }))).toEqual([]);
    expect(JSON.parse(JSON.stringify(config)).secrets).toBeUndefined();
  });

  it('util.inspect (console.log) is redacted', () => {
    expect(leaks(inspect(config, { depth: null }))).toEqual([]);
    expect(leaks(inspect(config.connections[0]?.upstream))).toEqual([]);
  });

  it('redactConfig replaces each secret with [secret], keeping the rest', () => {
    const redacted = redactConfig(config);
    expect(leaks(JSON.stringify(redacted))).toEqual([]);
    expect(redacted.masking.hashKey).toBe('[secret]');
    expect(redacted.connections[0]?.upstream).toMatchObject({ password: '[secret]', host: 'h' });
    expect(redacted.connections[1]?.upstream).toMatchObject({
      headers: { Authorization: 'Bearer [secret]' },
    });
    expect(redacted.connections[0]?.name).toBe('db');
  });
});
