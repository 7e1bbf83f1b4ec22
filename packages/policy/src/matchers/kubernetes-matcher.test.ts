import type { Identity, PolicyEngine } from '@gatehouse/core';
import { describe, expect, it } from 'vitest';
import { type KubernetesRequestAttributes, kubernetesRequest } from '../commands.js';
import type { RuleConfig } from '../config-schema.js';
import { compilePolicy } from '../policy-engine.js';

const identity: Identity = { subject: 'agent-1', groups: ['agents'], issuer: 'test' };

function engine(rules: RuleConfig[], defaultAction: 'allow' | 'deny' = 'allow'): PolicyEngine {
  return compilePolicy({ connections: [{ name: 'k8s', policy: { rules, defaultAction } }] });
}

function req(e: PolicyEngine, a: Partial<KubernetesRequestAttributes>) {
  const attributes = { verb: 'get', apiGroup: '', apiVersion: 'v1', ...a };
  return e.decide({ connection: 'k8s', identity, command: kubernetesRequest('x', attributes) }).action;
}

describe('kubernetes matcher', () => {
  it('matches verbs, api groups and resources', () => {
    const e = engine([
      { action: 'deny', kubernetes: { verbs: ['delete', 'deletecollection'], resources: ['*'] } },
      { action: 'review', kubernetes: { apiGroups: ['apps'], resources: ['deployments'], verbs: ['patch'] } },
      { action: 'deny', kubernetes: { apiGroups: ['core'], resources: ['configmaps'], verbs: ['update'] } },
    ]);
    expect(req(e, { verb: 'delete', resource: 'pods', namespace: 'a', name: 'p' })).toBe('deny');
    expect(
      req(e, { verb: 'patch', apiGroup: 'apps', resource: 'deployments', namespace: 'a', name: 'd' }),
    ).toBe('review');
    expect(req(e, { verb: 'patch', apiGroup: 'extensions', resource: 'deployments', name: 'd' })).toBe(
      'allow',
    );
    expect(req(e, { verb: 'update', resource: 'configmaps', namespace: 'a', name: 'c' })).toBe('deny');
  });

  it('deny rules on a resource cover its subresources; allow rules do not', () => {
    const deny = engine([{ action: 'deny', kubernetes: { resources: ['pods'] } }]);
    expect(
      req(deny, { verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'a', name: 'p' }),
    ).toBe('deny');
    const allow = engine([{ action: 'allow', kubernetes: { resources: ['pods'] } }], 'deny');
    expect(req(allow, { verb: 'get', resource: 'pods', namespace: 'a', name: 'p' })).toBe('allow');
    expect(
      req(allow, { verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'a', name: 'p' }),
    ).toBe('deny');
  });

  it('matches subresources either way they are written', () => {
    const e = engine([
      { action: 'allow', kubernetes: { resources: ['pods'], subresources: ['log'] } },
      { action: 'allow', kubernetes: { resources: ['pods/portforward'] } },
      { action: 'review', kubernetes: { subresources: ['exec', 'attach'] } },
    ]);
    expect(req(e, { resource: 'pods', subresource: 'log', namespace: 'a', name: 'p' })).toBe('allow');
    expect(
      req(e, { verb: 'create', resource: 'pods', subresource: 'portforward', namespace: 'a', name: 'p' }),
    ).toBe('allow');
    expect(req(e, { verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'a', name: 'p' })).toBe(
      'review',
    );
  });

  it('deny rules on a namespace also cover all-namespace collection requests', () => {
    const e = engine([{ action: 'deny', kubernetes: { resources: ['secrets'], namespaces: ['kube-*'] } }]);
    expect(req(e, { verb: 'get', resource: 'secrets', namespace: 'kube-system', name: 's' })).toBe('deny');
    expect(req(e, { verb: 'get', resource: 'secrets', namespace: 'default', name: 's' })).toBe('allow');
    expect(req(e, { verb: 'list', resource: 'secrets' })).toBe('deny');
    expect(req(e, { verb: 'watch', resource: 'secrets' })).toBe('deny');
  });

  it('a namespace rule does not reach cluster-scoped lists', () => {
    const e = engine([{ action: 'deny', kubernetes: { namespaces: ['kube-system'] } }]);
    expect(req(e, { verb: 'list', resource: 'nodes' })).toBe('allow');
    expect(req(e, { verb: 'list', resource: 'widgets', apiGroup: 'example.com' })).toBe('deny');
  });

  it("treats a namespace object's name as its namespace", () => {
    const e = engine([{ action: 'deny', kubernetes: { namespaces: ['kube-system'] } }]);
    expect(req(e, { verb: 'delete', resource: 'namespaces', name: 'kube-system' })).toBe('deny');
    expect(req(e, { verb: 'delete', resource: 'namespaces', name: 'scratch' })).toBe('allow');
  });

  it('allow rules need the namespace and name present', () => {
    const e = engine(
      [
        {
          action: 'allow',
          kubernetes: { resources: ['configmaps'], namespaces: ['team-a'], names: ['app-*'] },
        },
      ],
      'deny',
    );
    expect(req(e, { resource: 'configmaps', namespace: 'team-a', name: 'app-config' })).toBe('allow');
    expect(req(e, { verb: 'list', resource: 'configmaps', namespace: 'team-a' })).toBe('deny');
    expect(req(e, { verb: 'list', resource: 'configmaps' })).toBe('deny');
  });

  it('deny rules on names also cover collection requests', () => {
    const e = engine([{ action: 'deny', kubernetes: { resources: ['secrets'], names: ['admin-token'] } }]);
    expect(req(e, { resource: 'secrets', namespace: 'a', name: 'admin-token' })).toBe('deny');
    expect(req(e, { verb: 'list', resource: 'secrets', namespace: 'a' })).toBe('deny');
    expect(req(e, { verb: 'deletecollection', resource: 'secrets', namespace: 'a' })).toBe('deny');
    expect(req(e, { resource: 'secrets', namespace: 'a', name: 'other' })).toBe('allow');
    expect(req(e, { verb: 'create', resource: 'secrets', namespace: 'a' })).toBe('allow');
  });

  it('matches non-resource paths, and keeps them apart from resource rules', () => {
    const e = engine(
      [
        { action: 'allow', kubernetes: { nonResourcePaths: ['/api', '/apis/**', '/version', '/healthz*'] } },
        { action: 'allow', kubernetes: { resources: ['*'], verbs: ['get'] } },
      ],
      'deny',
    );
    expect(req(e, { nonResourcePath: '/apis/apps/v1' })).toBe('allow');
    expect(req(e, { nonResourcePath: '/healthz/ready' })).toBe('deny');
    expect(req(e, { nonResourcePath: '/healthz' })).toBe('allow');
    expect(req(e, { nonResourcePath: '/metrics' })).toBe('deny');
    expect(req(e, { resource: 'pods', namespace: 'a', name: 'p' })).toBe('allow');
  });
});
