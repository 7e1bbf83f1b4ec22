/**
 * TestSelectorParsing from the API server's requestinfo_test.go: what a field selector does to the
 * name and verb of a list or watch, and which selectors the request info keeps.
 */
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

describe('TestSelectorParsing', () => {
  it.each([
    ['no selector', 'GET', '/apis/group/version/resource', '', 'list', '', ''],
    [
      'metadata.name selector',
      'GET',
      '/apis/group/version/resource?fieldSelector=metadata.name=name1',
      'name1',
      'list',
      'metadata.name=name1',
      '',
    ],
    [
      'metadata.name selector with watch',
      'GET',
      '/apis/group/version/resource?watch=true&fieldSelector=metadata.name=name1',
      'name1',
      'watch',
      'metadata.name=name1',
      '',
    ],
    [
      'random selector',
      'GET',
      '/apis/group/version/resource?fieldSelector=foo=bar&labelSelector=baz=qux',
      '',
      'list',
      'foo=bar',
      'baz=qux',
    ],
    [
      'invalid selector with metadata.name',
      'GET',
      '/apis/group/version/resource?fieldSelector=metadata.name=name1,foo',
      '',
      'list',
      'metadata.name=name1,foo',
      '',
    ],
    [
      'invalid selector with metadata.name with watch',
      'GET',
      '/apis/group/version/resource?fieldSelector=metadata.name=name1,foo&watch=true',
      '',
      'watch',
      'metadata.name=name1,foo',
      '',
    ],
    [
      'invalid selector with metadata.name with watch false',
      'GET',
      '/apis/group/version/resource?fieldSelector=metadata.name=name1,foo&watch=false',
      '',
      'list',
      'metadata.name=name1,foo',
      '',
    ],
    [
      'selector on deletecollection is honored',
      'DELETE',
      '/apis/group/version/resource?fieldSelector=foo=bar&labelSelector=baz=qux',
      '',
      'deletecollection',
      'foo=bar',
      'baz=qux',
    ],
    [
      'selector on other verb is ignored',
      'GET',
      '/apis/group/version/resource/name?fieldSelector=foo=bar&labelSelector=foo=bar',
      'name',
      'get',
      '',
      '',
    ],
    [
      'selector on deprecated root type watch is not parsed',
      'GET',
      '/apis/group/version/watch/resource?fieldSelector=metadata.name=foo&labelSelector=foo=bar',
      '',
      'watch',
      '',
      '',
    ],
    [
      'selector on deprecated root item watch is not parsed',
      'GET',
      '/apis/group/version/watch/resource/name?fieldSelector=metadata.name=foo&labelSelector=foo=bar',
      'name',
      'watch',
      '',
      '',
    ],
  ])('%s', (_name, method, url, name, verb, fieldSelector, labelSelector) => {
    const info = parse(method, url);
    if (!info.isResourceRequest) throw new Error('expected a resource request');
    expect(info.name ?? '').toBe(name);
    expect(info.verb).toBe(verb);
    expect(info.fieldSelector ?? '').toBe(fieldSelector);
    expect(info.labelSelector ?? '').toBe(labelSelector);
  });

  it('"selector on repeated param matches parsed param": the server reads the first, so it is refused', () => {
    const url =
      '/apis/group/version/resource?fieldSelector=metadata.name=foo&fieldSelector=metadata.name=bar' +
      '&labelSelector=foo=bar&labelSelector=foo=baz';
    expect(() => parse('GET', url)).toThrow(/"fieldSelector" given more than once/);
  });
});
