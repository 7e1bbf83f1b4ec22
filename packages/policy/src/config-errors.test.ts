import { ConfigError } from '@gatehouse/core';
import { describe, expect, it } from 'vitest';
import { compilePolicy, type PolicyConfig } from './policy-engine.js';

function errorOf(config: unknown): ConfigError {
  try {
    compilePolicy(config as PolicyConfig);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const withRules = (rules: unknown[]) => ({
  policies: { guard: { rules } },
  connections: [{ name: 'pg', policy: { use: ['guard'] } }],
});

describe('policy config errors name the key', () => {
  it.each([
    [
      withRules([{ action: 'deny' }, { action: 'deny' }, { action: 'deny', sql: { pattern: '(' } }]),
      'policies.guard.rules[2].sql.pattern',
      /invalid regular expression/,
    ],
    [
      withRules([{ action: 'deny', sql: { pattern: '(a+)+b' } }]),
      'policies.guard.rules[0].sql.pattern',
      /nested quantifier/,
    ],
    [
      withRules([{ action: 'deny', shell: { pattern: '(\\w+\\s?)*$' } }]),
      'policies.guard.rules[0].shell.pattern',
      /nested quantifier/,
    ],
    [
      withRules([{ action: 'deny', sql: { kinds: ['select', 'selcet'] } }]),
      'policies.guard.rules[0].sql.kinds[1]',
      /unknown statement kind "selcet" \(did you mean select\?\)/,
    ],
    [
      withRules([{ action: 'deny', sql: { kinds: ['writes'] } }]),
      'policies.guard.rules[0].sql.kinds[0]',
      /did you mean write/,
    ],
    [
      withRules([{ action: 'deny', sql: { kinds: [] } }]),
      'policies.guard.rules[0].sql.kinds',
      /must not be empty/,
    ],
    [
      withRules([{ action: 'deny', sql: { where: 'present' } }]),
      'policies.guard.rules[0].sql.where',
      /absent/,
    ],
    [
      withRules([{ action: 'deny', sql: { table: ['x'] } }]),
      'policies.guard.rules[0].sql.table',
      /unknown key "table" \(did you mean tables\?\)/,
    ],
    [withRules([{ action: 'block' }]), 'policies.guard.rules[0].action', /allow, deny, review/],
    [withRules([{ sql: {} }]), 'policies.guard.rules[0].action', /required/],
    [
      withRules([{ action: 'deny', shell: { channels: ['tunnel'] } }]),
      'policies.guard.rules[0].shell.channels[0]',
      /unknown channel/,
    ],
    [
      withRules([{ action: 'deny', kubernetes: { verbs: 'get' } }]),
      'policies.guard.rules[0].kubernetes.verbs',
      /list of strings/,
    ],
    [
      withRules([{ action: 'deny', http: { paths: [''] } }]),
      'policies.guard.rules[0].http.paths[0]',
      /non-empty/,
    ],
    [withRules([{ action: 'deny', groups: [] }]), 'policies.guard.rules[0].groups', /must not be empty/],
    [
      withRules([
        { id: 'x', action: 'deny' },
        { id: 'x', action: 'allow' },
      ]),
      'policies.guard.rules[1].id',
      /duplicate rule id "x"/,
    ],
    [
      {
        policies: { guard: { rules: [] } },
        connections: [{ name: 'pg', policy: { use: ['guard', 'gaurd'] } }],
      },
      'connections[0].policy.use[1]',
      /rule set "gaurd" is not defined under policies \(defined: guard\)/,
    ],
    [
      { connections: [{ name: 'pg', policy: { rules: [{ action: 'deny', sql: { kinds: ['nope'] } }] } }] },
      'connections[0].policy.rules[0].sql.kinds[0]',
      /unknown statement kind/,
    ],
    [
      { connections: [{ name: 'pg', policy: { defaultAction: 'maybe' } }] },
      'connections[0].policy.defaultAction',
      /allow, deny, review/,
    ],
    [{ connections: [{ name: 'pg' }, { name: 'pg' }] }, 'connections[1].name', /duplicate connection name/],
    [{ policies: { 'my set': { rules: {} } }, connections: [] }, 'policies["my set"].rules', /list of rules/],
    [
      { connections: [], masking: { rules: [{ name: 'r', detectors: ['ssn', 'credit-card'] }] } },
      'masking.rules[0].detectors[1]',
      /unknown detector/,
    ],
  ])('%#: %s', (config, path, message) => {
    const err = errorOf(config);
    expect(err.path).toBe(path);
    expect(err.message).toMatch(message);
  });

  it('accepts every documented kind and alias', () => {
    const kinds = [
      'read',
      'write',
      'ddl',
      'admin',
      'session',
      'select',
      'create_table',
      'set_role',
      'unknown',
    ];
    expect(() =>
      compilePolicy(withRules([{ action: 'deny', sql: { kinds } }]) as PolicyConfig),
    ).not.toThrow();
  });
});
