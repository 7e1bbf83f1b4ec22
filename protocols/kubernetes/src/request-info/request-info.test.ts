/**
 * The API server's own table, with the Go test's expectations: TestGetAPIRequestInfo and
 * TestGetNonAPIRequestInfo from k8s.io/apiserver/pkg/endpoints/request/requestinfo_test.go
 * (TestSelectorParsing is in request-info-selectors.test.ts). Where the gateway refuses instead of
 * classifying, the case says so and why.
 */
import { ProtocolError } from '@gatehouse/core';
import { describe, expect, it } from 'vitest';
import { parseRequestInfo, type RequestInfo } from './request-info.js';

function parse(method: string, url: string): RequestInfo {
  const q = url.indexOf('?');
  return parseRequestInfo({
    method,
    path: q === -1 ? url : url.slice(0, q),
    query: q === -1 ? '' : url.slice(q + 1),
  });
}

type Row = [
  method: string,
  url: string,
  verb: string,
  prefix: string,
  group: string,
  version: string,
  namespace: string,
  resource: string,
  subresource: string,
  name: string,
  parts: string[],
];

// The Go table's expectedAPIPrefix is "api" throughout, but the test never checks it (the
// `/apis/...` rows are "apis"); the prefix column below is the real one.
const successCases: Row[] = [
  // resource paths
  ['GET', '/api/v1/namespaces', 'list', 'api', '', 'v1', '', 'namespaces', '', '', ['namespaces']],
  [
    'GET',
    '/api/v1/namespaces/other',
    'get',
    'api',
    '',
    'v1',
    'other',
    'namespaces',
    '',
    'other',
    ['namespaces', 'other'],
  ],
  ['GET', '/api/v1/namespaces/other/pods', 'list', 'api', '', 'v1', 'other', 'pods', '', '', ['pods']],
  [
    'GET',
    '/api/v1/namespaces/other/pods/foo',
    'get',
    'api',
    '',
    'v1',
    'other',
    'pods',
    '',
    'foo',
    ['pods', 'foo'],
  ],
  [
    'HEAD',
    '/api/v1/namespaces/other/pods/foo',
    'get',
    'api',
    '',
    'v1',
    'other',
    'pods',
    '',
    'foo',
    ['pods', 'foo'],
  ],
  ['GET', '/api/v1/pods', 'list', 'api', '', 'v1', '', 'pods', '', '', ['pods']],
  ['HEAD', '/api/v1/pods', 'list', 'api', '', 'v1', '', 'pods', '', '', ['pods']],
  [
    'GET',
    '/api/v1/namespaces/other/pods/foo',
    'get',
    'api',
    '',
    'v1',
    'other',
    'pods',
    '',
    'foo',
    ['pods', 'foo'],
  ],
  ['GET', '/api/v1/namespaces/other/pods', 'list', 'api', '', 'v1', 'other', 'pods', '', '', ['pods']],

  // special verbs
  [
    'GET',
    '/api/v1/proxy/namespaces/other/pods/foo',
    'proxy',
    'api',
    '',
    'v1',
    'other',
    'pods',
    '',
    'foo',
    ['pods', 'foo'],
  ],
  [
    'GET',
    '/api/v1/proxy/namespaces/other/pods/foo/subpath/not/a/subresource',
    'proxy',
    'api',
    '',
    'v1',
    'other',
    'pods',
    '',
    'foo',
    ['pods', 'foo', 'subpath', 'not', 'a', 'subresource'],
  ],
  ['GET', '/api/v1/watch/pods', 'watch', 'api', '', 'v1', '', 'pods', '', '', ['pods']],
  ['GET', '/api/v1/pods?watch=true', 'watch', 'api', '', 'v1', '', 'pods', '', '', ['pods']],
  ['GET', '/api/v1/pods?watch=false', 'list', 'api', '', 'v1', '', 'pods', '', '', ['pods']],
  ['GET', '/api/v1/watch/namespaces/other/pods', 'watch', 'api', '', 'v1', 'other', 'pods', '', '', ['pods']],
  [
    'GET',
    '/api/v1/namespaces/other/pods?watch=1',
    'watch',
    'api',
    '',
    'v1',
    'other',
    'pods',
    '',
    '',
    ['pods'],
  ],
  [
    'GET',
    '/api/v1/namespaces/other/pods?watch=0',
    'list',
    'api',
    '',
    'v1',
    'other',
    'pods',
    '',
    '',
    ['pods'],
  ],

  // subresource identification
  [
    'GET',
    '/api/v1/namespaces/other/pods/foo/status',
    'get',
    'api',
    '',
    'v1',
    'other',
    'pods',
    'status',
    'foo',
    ['pods', 'foo', 'status'],
  ],
  [
    'GET',
    '/api/v1/namespaces/other/pods/foo/proxy/subpath',
    'get',
    'api',
    '',
    'v1',
    'other',
    'pods',
    'proxy',
    'foo',
    ['pods', 'foo', 'proxy', 'subpath'],
  ],
  [
    'PUT',
    '/api/v1/namespaces/other/finalize',
    'update',
    'api',
    '',
    'v1',
    'other',
    'namespaces',
    'finalize',
    'other',
    ['namespaces', 'other', 'finalize'],
  ],
  [
    'PUT',
    '/api/v1/namespaces/other/status',
    'update',
    'api',
    '',
    'v1',
    'other',
    'namespaces',
    'status',
    'other',
    ['namespaces', 'other', 'status'],
  ],

  // verb identification
  [
    'PATCH',
    '/api/v1/namespaces/other/pods/foo',
    'patch',
    'api',
    '',
    'v1',
    'other',
    'pods',
    '',
    'foo',
    ['pods', 'foo'],
  ],
  [
    'DELETE',
    '/api/v1/namespaces/other/pods/foo',
    'delete',
    'api',
    '',
    'v1',
    'other',
    'pods',
    '',
    'foo',
    ['pods', 'foo'],
  ],
  ['POST', '/api/v1/namespaces/other/pods', 'create', 'api', '', 'v1', 'other', 'pods', '', '', ['pods']],

  // deletecollection verb identification
  ['DELETE', '/api/v1/nodes', 'deletecollection', 'api', '', 'v1', '', 'nodes', '', '', ['nodes']],
  [
    'DELETE',
    '/api/v1/namespaces',
    'deletecollection',
    'api',
    '',
    'v1',
    '',
    'namespaces',
    '',
    '',
    ['namespaces'],
  ],
  [
    'DELETE',
    '/api/v1/namespaces/other/pods',
    'deletecollection',
    'api',
    '',
    'v1',
    'other',
    'pods',
    '',
    '',
    ['pods'],
  ],
  [
    'DELETE',
    '/apis/extensions/v1/namespaces/other/pods',
    'deletecollection',
    'apis',
    'extensions',
    'v1',
    'other',
    'pods',
    '',
    '',
    ['pods'],
  ],

  // api group identification
  [
    'POST',
    '/apis/extensions/v1/namespaces/other/pods',
    'create',
    'apis',
    'extensions',
    'v1',
    'other',
    'pods',
    '',
    '',
    ['pods'],
  ],

  // api version identification
  [
    'POST',
    '/apis/extensions/v1beta3/namespaces/other/pods',
    'create',
    'apis',
    'extensions',
    'v1beta3',
    'other',
    'pods',
    '',
    '',
    ['pods'],
  ],
];

describe('TestGetAPIRequestInfo success cases', () => {
  it.each(successCases)(
    '%s %s',
    (method, url, verb, prefix, group, version, ns, resource, sub, name, parts) => {
      const info = parse(method, url);
      expect(info.isResourceRequest).toBe(true);
      if (!info.isResourceRequest) return;
      expect(info.verb).toBe(verb);
      expect(info.apiPrefix).toBe(prefix);
      expect(info.apiGroup).toBe(group);
      expect(info.apiVersion).toBe(version);
      expect(info.namespace ?? '').toBe(ns);
      expect(info.resource).toBe(resource);
      expect(info.subresource ?? '').toBe(sub);
      expect(info.name ?? '').toBe(name);
      expect(info.parts).toEqual(parts);
    },
  );
});

describe('TestGetAPIRequestInfo error cases: non-resource requests', () => {
  // Go keys the trailing-slash rows by what they lack; they stay non-resource paths here too.
  it.each([
    ['no resource path', '/'],
    ['just apiversion', '/api/version/'],
    ['just prefix, group, version', '/apis/group/version/'],
    ['bad prefix', '/badprefix/version/resource'],
    ['missing api group', '/apis/version/resource'],
  ])('%s: %s', (_name, url) => {
    expect(parse('GET', url)).toEqual({ isResourceRequest: false, verb: 'get', path: url });
  });
});

describe('TestGetNonAPIRequestInfo', () => {
  it.each([
    ['simple groupless', '/api/version/resource', true],
    ['simple group', '/apis/group/version/resource/name/subresource', true],
    ['more steps', '/api/version/resource/name/subresource', true],
    ['group list', '/apis/batch/v1/job', true],
    ['group get', '/apis/batch/v1/job/foo', true],
    ['group subresource', '/apis/batch/v1/job/foo/scale', true],
    ['bad root', '/not-api/version/resource', false],
    ['group without enough steps', '/apis/extensions/v1beta1', false],
    ['group without enough steps 2', '/apis/extensions/v1beta1/', false],
    ['not enough steps', '/api/version', false],
    ['one step', '/api', false],
    ['zero step', '/', false],
  ])('%s: %s', (_name, url, resource) => {
    expect(parse('GET', url).isResourceRequest).toBe(resource);
  });

  it('"empty": Go classifies the empty path as non-resource; it is no request target, so it is refused', () => {
    expect(() => parse('GET', '')).toThrow(ProtocolError);
  });
});
