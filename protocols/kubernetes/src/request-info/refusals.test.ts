/**
 * Requests the parser refuses instead of classifying: each one is either read differently by the
 * API server and another parser, or would hide part of what it does from policy.
 */
import { ProtocolError } from '@gatehouse/core';
import { describe, expect, it } from 'vitest';
import { parseRequestInfo } from './request-info.js';

function reasonOf(method: string, url: string): unknown {
  const q = url.indexOf('?');
  try {
    parseRequestInfo({
      method,
      path: q === -1 ? url : url.slice(0, q),
      query: q === -1 ? '' : url.slice(q + 1),
    });
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    return (err as ProtocolError).details['reason'];
  }
  throw new Error(`expected ${method} ${url} to be refused`);
}

describe('parseRequestInfo refuses', () => {
  it.each([
    // methods
    ['get', '/api/v1/pods', 'method get is not served on resource paths'],
    ['OPTIONS', '/api/v1/namespaces/x/pods', 'method OPTIONS is not served on resource paths'],
    ['CONNECT', '/api/v1/namespaces/x/services/s/proxy', 'method CONNECT is not served on resource paths'],
    ['G ET', '/api', 'method is not an HTTP token'],
    ['', '/api', 'method is not an HTTP token'],
    ['POST', '/api/v1/watch/pods', 'method POST on the /watch/ prefix'],
    ['PUT', '/api/v1/namespaces/x/pods/p/exec?command=id', 'method PUT on pods/exec'],
    ['DELETE', '/api/v1/namespaces/x/pods/p/portforward', 'method DELETE on pods/portforward'],
    // what the server itself cannot place
    ['GET', '/api/v1/watch', '"/watch" names no resource'],
    ['GET', '/apis/apps/v1/proxy', '"/proxy" names no resource'],
    // names
    ['GET', '/api/v1/namespaces/Kube-System/pods', 'namespace is not a DNS-1123 label'],
    ['GET', '/api/v1/namespaces/kube-system./pods', 'namespace is not a DNS-1123 label'],
    ['DELETE', '/api/v1/namespaces/-x', 'namespace is not a DNS-1123 label'],
    ['GET', `/api/v1/namespaces/${'a'.repeat(64)}/pods`, 'namespace is not a DNS-1123 label'],
    ['GET', '/apis/Apps/v1/deployments', 'API group is not a DNS-1123 subdomain'],
    ['GET', '/apis/apps/V1/deployments', 'API version is not a DNS-1035 label'],
    ['GET', '/api/1/pods', 'API version is not a DNS-1035 label'],
    ['GET', '/api/v1/po%20ds', 'resource is not a resource name'],
    ['GET', '/api/v1/namespaces/x/pods/p/st%C3%A4tus', 'subresource is not a resource name'],
    ['GET', '/api/v1/namespaces/x/namespaces/y', 'namespaces inside a namespace'],
    // parts the server would not show to an authoriser
    ['GET', '/api/v1/namespaces/x/pods/p/status/extra', 'path continues after the subresource'],
    ['POST', '/api/v1/namespaces/x/pods/p/exec/sh', 'path continues after the subresource'],
    ['GET', '/api/v1/namespaces/x/pods/', 'trailing slash on a resource path'],
    ['GET', '/api/v1/namespaces/x/pods/p/exec/', 'trailing slash on a resource path'],
    ['GET', '/api/v1/proxy/nodes/', 'trailing slash on a resource path'],
    // ambiguous or bogus options
    [
      'GET',
      '/api/v1/pods?watch=',
      'parameter "watch" is not true, false, 1 or 0 (the API server reads any other value as true)',
    ],
    [
      'GET',
      '/api/v1/pods?watch=no',
      'parameter "watch" is not true, false, 1 or 0 (the API server reads any other value as true)',
    ],
    [
      'POST',
      '/api/v1/namespaces/x/pods?dryRun=all',
      'dryRun is not "All" (the only value the API server accepts)',
    ],
    [
      'POST',
      '/api/v1/namespaces/x/pods?dryRun=',
      'dryRun is not "All" (the only value the API server accepts)',
    ],
    [
      'POST',
      '/api/v1/namespaces/x/pods/p/exec?command=id&stdin=yes',
      'parameter "stdin" is not true, false, 1 or 0 (the API server reads any other value as true)',
    ],
    ['GET', '/api/v1/namespaces/x/pods/p/portforward?ports=0', 'invalid ports'],
    ['GET', '/api/v1/namespaces/x/pods/p/portforward?ports=65536', 'invalid ports'],
    ['GET', '/api/v1/namespaces/x/pods/p/portforward?ports=80,', 'invalid ports'],
    ['GET', '/api/v1/namespaces/x/pods/p/portforward?ports=%2B80', 'invalid ports'],
    [
      'GET',
      '/api/v1/namespaces/x/pods?fieldSelector=metadata.name%3Da,metadata.name%3Db',
      'fieldSelector requires two different names',
    ],
  ])('%s %s', (method, url, reason) => {
    expect(reasonOf(method, url)).toBe(reason);
  });

  it('refuses non-canonical paths with the path checker (examples; see canonical-path.test.ts)', () => {
    expect(reasonOf('GET', '/api/v1/namespaces/a%2Fb/pods')).toBe('encoded slash (%2F)');
    expect(reasonOf('GET', '/api/v1/namespaces/x/pods/../../kube-system/secrets')).toBe('dot segment');
    expect(reasonOf('GET', '//api/v1/pods')).toBe('empty path segment ("//")');
  });

  it('refuses malformed input objects with a ProtocolError, not a TypeError', () => {
    for (const bad of [null, undefined, 'GET /', { method: 'GET' }, { method: 'GET', path: '/', query: 3 }]) {
      expect(() => parseRequestInfo(bad as never)).toThrow(ProtocolError);
    }
  });
});

describe('parseRequestInfo does not refuse', () => {
  it('repeated options that the server reads as lists', () => {
    expect(() =>
      parseRequestInfo({
        method: 'POST',
        path: '/api/v1/namespaces/x/pods/p/exec',
        query: 'command=a&command=a',
      }),
    ).not.toThrow();
  });

  it('options it does not interpret, repeated or not', () => {
    expect(() =>
      parseRequestInfo({ method: 'GET', path: '/api/v1/pods', query: 'limit=1&limit=2&x=%3B' }),
    ).not.toThrow();
  });

  it('a name that is not a DNS name: names may hold ":" and more', () => {
    expect(
      parseRequestInfo({
        method: 'GET',
        path: '/apis/rbac.authorization.k8s.io/v1/clusterroles/system%3Cx%3E',
        query: '',
      }),
    ).toMatchObject({ name: 'system<x>' });
  });
});
