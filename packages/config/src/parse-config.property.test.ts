// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are config text with ${env:…} references, not templates
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@gatehouse/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from './load.js';

// Secret files resolve against an empty directory, so `${file:…}` in random text reads nothing real.
const baseDir = mkdtempSync(join(tmpdir(), 'gatehouse-config-prop-'));
const file = join(baseDir, 'gatehouse.yaml');
const env = { PW: 'pw-value', LISTEN: '127.0.0.1:5000' };

function outcome(text: string): 'ok' | 'config-error' {
  try {
    parseConfig(text, { file, baseDir, env, extraProtocols: ['test'] });
    return 'ok';
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    expect(err.message.startsWith(`${file}: `)).toBe(true);
    expect(err.message).not.toContain('pw-value');
    return 'config-error';
  }
}

const KEYS = [
  'dataDir',
  'identity',
  'providers',
  'issuer',
  'audience',
  'discovery',
  'jwksUri',
  'jwksFile',
  'algorithms',
  'groupsClaim',
  'clockTolerance',
  'devIssuer',
  'enabled',
  'sessionLog',
  'path',
  'strict',
  'synchronous',
  'admin',
  'listen',
  'adminGroups',
  'approvals',
  'approverGroups',
  'timeout',
  'webhook',
  'url',
  'policies',
  'rules',
  'action',
  'sql',
  'pattern',
  'shell',
  'masking',
  'detectors',
  'logging',
  'level',
  'shutdown',
  'drainTimeout',
  'limits',
  'handshakeTimeout',
  'maxConnectionsPerSource',
  'connections',
  'name',
  'protocol',
  'access',
  'groups',
  'upstream',
  'host',
  'port',
  'user',
  'password',
  'hostKey',
  'privateKey',
  'kubeconfig',
  'headers',
  'policy',
  'use',
  'options',
  'tls',
  'mode',
  'x-anchor',
  '__proto__',
  'constructor',
];
const SCALARS = [
  'postgres',
  'ssh',
  'http',
  'kubernetes',
  'test',
  '127.0.0.1:15432',
  '[::1]:1',
  '0.0.0.0:9090',
  '9090',
  '30s',
  '5 minutes',
  '1h30m',
  'deny',
  'allow',
  'review',
  '(',
  '^drop',
  '${env:PW}',
  '${env:LISTEN}',
  '${env:NOPE}',
  '${file:x}',
  '$${env:PW}',
  '${',
  'http://x',
  'ftp://x',
  'SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8',
  'full',
  'normal',
  'info',
  'RS256',
  'HS256',
  '',
  'guard',
];

const scalar = fc.oneof(
  fc.constantFrom(...SCALARS),
  fc.string(),
  fc.integer({ min: -10, max: 70_000 }),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);
const key = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...KEYS) },
  { weight: 1, arbitrary: fc.string() },
);
const { tree } = fc.letrec<{ tree: unknown }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('tree'), { maxLength: 4 }),
    fc.dictionary(key, tie('tree'), { maxKeys: 6 }),
  ),
}));

describe('parseConfig on arbitrary input', () => {
  it('returns a config or throws a ConfigError for any text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => {
        outcome(text);
      }),
      { numRuns: 500 },
    );
  });

  it('returns a config or throws a ConfigError for any config-shaped document', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...KEYS), tree, { maxKeys: 8 }), (doc) => {
        outcome(stringify(doc));
      }),
      { numRuns: 500 },
    );
  });

  it('returns a config or throws a ConfigError for mangled YAML', () => {
    const base = stringify({
      connections: [
        {
          name: 'a',
          protocol: 'postgres',
          listen: 1,
          upstream: { host: 'h', user: 'u', password: '${env:PW}' },
        },
      ],
      policies: { guard: { rules: [{ action: 'deny', sql: { pattern: '^drop' } }] } },
    });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(base.length), fc.nat(3), fc.string({ maxLength: 3 })), { maxLength: 4 }),
        (edits) => {
          let text = base;
          for (const [at, remove, insert] of edits)
            text = text.slice(0, at) + insert + text.slice(at + remove);
          outcome(text);
        },
      ),
      { numRuns: 500 },
    );
  });
});
