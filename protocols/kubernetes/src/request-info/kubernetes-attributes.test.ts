/** toKubernetesAttributes, checked against the real policy engine with the rules from docs/policy.md. */
import type { Identity } from '@gatehouse/core';
import { compilePolicy, kubernetesRequest, type RuleConfig } from '@gatehouse/policy';
import { describe, expect, it } from 'vitest';
import { toKubernetesAttributes } from './kubernetes-attributes.js';
import { parseRequestInfo } from './request-info.js';

const identity: Identity = { subject: 'agent-1', groups: ['agents'], issuer: 'test' };

function attributes(method: string, url: string) {
  const q = url.indexOf('?');
  const info = parseRequestInfo({
    method,
    path: q === -1 ? url : url.slice(0, q),
    query: q === -1 ? '' : url.slice(q + 1),
  });
  return toKubernetesAttributes(info);
}

function decide(rules: RuleConfig[], method: string, url: string, defaultAction: 'allow' | 'deny' = 'deny') {
  const engine = compilePolicy({ connections: [{ name: 'k8s', policy: { rules, defaultAction } }] });
  const command = kubernetesRequest(`${method} ${url}`, attributes(method, url));
  return engine.decide({ connection: 'k8s', identity, command }).action;
}

describe('toKubernetesAttributes', () => {
  it('fills the resource fields and leaves absent ones out', () => {
    expect(attributes('GET', '/apis/apps/v1/namespaces/x/deployments/web/scale')).toEqual({
      verb: 'get',
      apiGroup: 'apps',
      apiVersion: 'v1',
      resource: 'deployments',
      subresource: 'scale',
      namespace: 'x',
      name: 'web',
    });
    expect(attributes('GET', '/api/v1/nodes')).toEqual({
      verb: 'list',
      apiGroup: '',
      apiVersion: 'v1',
      resource: 'nodes',
    });
  });

  it('a non-resource request carries only its path', () => {
    expect(attributes('GET', '/apis/apps/v1')).toEqual({
      verb: 'get',
      apiGroup: '',
      apiVersion: '',
      nonResourcePath: '/apis/apps/v1',
    });
  });

  it.each([
    ['exec', 'GET', 'create'],
    ['exec', 'POST', 'create'],
    ['attach', 'GET', 'create'],
    ['portforward', 'GET', 'create'],
    ['log', 'GET', 'get'],
    ['status', 'GET', 'get'],
  ])('pods/%s over %s is %s', (subresource, method, verb) => {
    expect(attributes(method, `/api/v1/namespaces/x/pods/p/${subresource}`).verb).toBe(verb);
  });

  it('keeps the server verb for proxies: nodes/proxy GET stays get', () => {
    expect(attributes('GET', '/api/v1/nodes/n1/proxy/stats').verb).toBe('get');
  });
});

describe('with the policy engine', () => {
  const noExec: RuleConfig = { action: 'deny', kubernetes: { resources: ['pods/exec'], verbs: ['create'] } };
  const everything: RuleConfig = { action: 'allow', kubernetes: { resources: ['*'] } };

  it('a create-only exec ban holds for SPDY and WebSocket exec alike', () => {
    const podSubresources: RuleConfig = { action: 'allow', kubernetes: { resources: ['pods/*'] } };
    for (const method of ['POST', 'GET']) {
      expect(decide([noExec, podSubresources], method, '/api/v1/namespaces/x/pods/p/exec?command=id')).toBe(
        'deny',
      );
    }
    expect(decide([noExec, podSubresources], 'GET', '/api/v1/namespaces/x/pods/p/log')).toBe('allow');
  });

  it('a namespace deny covers kubectl delete namespace and all-namespace lists', () => {
    const rules: RuleConfig[] = [{ action: 'deny', kubernetes: { namespaces: ['kube-*'] } }, everything];
    expect(decide(rules, 'DELETE', '/api/v1/namespaces/kube-system', 'allow')).toBe('deny');
    expect(decide(rules, 'GET', '/api/v1/secrets', 'allow')).toBe('deny');
    expect(decide(rules, 'GET', '/api/v1/namespaces/team-a/secrets', 'allow')).toBe('allow');
  });

  it('a name allow matches a single-object watch made with a field selector', () => {
    const rules: RuleConfig[] = [{ action: 'allow', kubernetes: { resources: ['pods'], names: ['web-*'] } }];
    expect(
      decide(rules, 'GET', '/api/v1/namespaces/x/pods?fieldSelector=metadata.name%3Dweb-0&watch=true'),
    ).toBe('allow');
    expect(decide(rules, 'GET', '/api/v1/namespaces/x/pods?watch=true')).toBe('deny');
  });

  it('discovery allowed by non-resource paths', () => {
    const rules: RuleConfig[] = [
      {
        action: 'allow',
        kubernetes: { nonResourcePaths: ['/api', '/api/*', '/apis', '/apis/**', '/version'] },
      },
    ];
    for (const url of ['/api', '/api/v1', '/apis', '/apis/apps/v1', '/version']) {
      expect(decide(rules, 'GET', url)).toBe('allow');
    }
    expect(decide(rules, 'GET', '/api/v1/pods')).toBe('deny');
  });
});
