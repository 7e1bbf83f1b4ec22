import type { Identity, PolicyEngine } from '@gatehouse/core';
import { describe, expect, it } from 'vitest';
import { httpRequest } from '../commands.js';
import type { RuleConfig } from '../config-schema.js';
import { compilePolicy } from '../policy-engine.js';

const identity: Identity = { subject: 'agent-1', groups: ['agents'], issuer: 'test' };

function engine(rules: RuleConfig[], defaultAction: 'allow' | 'deny' = 'allow'): PolicyEngine {
  return compilePolicy({ connections: [{ name: 'api', policy: { rules, defaultAction } }] });
}

function req(e: PolicyEngine, method: string, path: string, headers: string[] = []) {
  return e.decide({
    connection: 'api',
    identity,
    command: httpRequest(`${method} ${path}`, { method, path, headers }),
  }).action;
}

describe('http matcher', () => {
  const deny = engine([
    { action: 'deny', http: { methods: ['delete'], paths: ['/api/*/users/*'] } },
    { action: 'deny', http: { paths: ['/admin/**', '/admin'] } },
    { action: 'review', http: { methods: ['POST'], headers: ['X-Impersonate'] } },
  ]);

  it.each([
    ['DELETE', '/api/v1/users/42', 'deny'],
    ['delete', '/api/v1/users/42', 'deny'],
    ['DELETE', '/api/v1/users/42/keys', 'allow'],
    ['GET', '/api/v1/users/42', 'allow'],
    ['GET', '/admin', 'deny'],
    ['GET', '/admin/', 'deny'],
    ['GET', '/admin/settings/mail', 'deny'],
    ['GET', '//admin', 'deny'],
    ['GET', '/public/../admin', 'deny'],
    ['GET', '/%61dmin/x', 'deny'],
    ['GET', '/admin%2Fsettings', 'deny'],
    ['GET', '/admin?x=1', 'deny'],
    ['GET', '/administrator', 'allow'],
    ['GET', '/public/admin', 'allow'],
  ])('%s %s → %s', (method, path, action) => {
    expect(req(deny, method, path)).toBe(action);
  });

  it('matches required headers', () => {
    expect(req(deny, 'POST', '/x', ['x-impersonate', 'accept'])).toBe('review');
    expect(req(deny, 'POST', '/x', ['accept'])).toBe('allow');
  });

  it('allow rules need every path form inside the pattern', () => {
    const allow = engine(
      [{ action: 'allow', http: { methods: ['GET', 'HEAD'], paths: ['/api/**'] } }],
      'deny',
    );
    expect(req(allow, 'GET', '/api/orders/1')).toBe('allow');
    expect(req(allow, 'HEAD', '/api/')).toBe('allow');
    expect(req(allow, 'GET', '/api/../admin')).toBe('deny');
    expect(req(allow, 'GET', '/api/%2E%2E/admin')).toBe('deny');
    expect(req(allow, 'POST', '/api/orders')).toBe('deny');
  });

  it('matches any method with *', () => {
    const e = engine([{ action: 'deny', http: { methods: ['*'], paths: ['/internal/**'] } }]);
    expect(req(e, 'PATCH', '/internal/x')).toBe('deny');
  });
});
