import { ProtocolError } from '@gatehouse/core';
import { describe, expect, it } from 'vitest';
import { encodePathSegment, MAX_PATH_LENGTH, splitCanonicalPath } from './canonical-path.js';

describe('splitCanonicalPath accepts the spelling client-go sends', () => {
  it.each([
    ['/', [], false],
    ['/api/v1/pods', ['api', 'v1', 'pods'], false],
    ['/logs/', ['logs'], true],
    ['/apis/rbac.authorization.k8s.io/v1/clusterroles/system:aggregate-to-admin', null, false],
    ['/api/v1/namespaces/x/services/https:web:443/proxy', null, false],
    ['/a/b%20c', ['a', 'b c'], false],
    ['/a/%28x%29%21%27%2A', ['a', "(x)!'*"], false],
    ['/a/caf%C3%A9', ['a', 'café'], false],
    ['/a/%3F%23%5B%5D', ['a', '?#[]'], false],
    ['/a/$&+,;=@~', ['a', '$&+,;=@~'], false],
    ['/a/...', ['a', '...'], false],
    ['/a/.hidden', ['a', '.hidden'], false],
  ])('%s', (path, segments, trailingSlash) => {
    const split = splitCanonicalPath(path);
    if (segments !== null) expect(split.segments).toEqual(segments);
    expect(split.trailingSlash).toBe(trailingSlash);
    expect(`/${split.segments.map(encodePathSegment).join('/')}${split.trailingSlash ? '/' : ''}`).toBe(path);
  });
});

describe('splitCanonicalPath refuses paths that can be read two ways', () => {
  it.each([
    // Go decodes before splitting: namespace "a", resource "b", name "pods".
    ['/api/v1/namespaces/a%2Fb/pods', 'encoded slash (%2F)'],
    ['/api/v1/namespaces/a%2fb/pods', 'lower-case percent-encoding "%2f" (use upper case)'],
    ['/api/v1/namespaces/a%5Cb/pods', 'encoded backslash (%5C)'],
    ['/api/v1/namespaces/a\\b/pods', 'backslash'],
    ['/api/v1/namespaces/x/pods/..', 'dot segment'],
    ['/api/v1/namespaces/x/../kube-system/secrets', 'dot segment'],
    ['/api/v1/./pods', 'dot segment'],
    ['/api/v1/namespaces/x/pods/..;/secrets', 'dot segment with parameters'],
    ['/api/v1/namespaces/x/pods/%2E%2E', 'encoded dot (%2E)'],
    ['/api/v1/namespaces/x/pods/.%2E', 'encoded dot (%2E)'],
    ['/api/v1/namespaces/%C0%AE%C0%AE/pods', 'percent-encoding that is not valid UTF-8'],
    ['/api/v1/namespaces/x/pods/%E0%80%AF', 'percent-encoding that is not valid UTF-8'],
    ['/api/v1/namespaces/x/pods/%C3', 'percent-encoding that is not valid UTF-8'],
    ['/api/v1/namespaces/x/pods/%ED%A0%80', 'percent-encoding that is not valid UTF-8'],
    ['/api/v1/namespaces/x/pods/%EF%BC%8F', 'character U+FF0F that normalises to "/"'],
    ['/api/v1/namespaces/x/pods/%EF%BC%8E%EF%BC%8E', 'segment that normalises to a dot segment'],
    ['/api/v1/namespaces//pods', 'empty path segment ("//")'],
    ['//api/v1/pods', 'empty path segment ("//")'],
    ['/api/v1/pods//', 'empty path segment ("//")'],
    ['/api/v1/pods/p%00', 'encoded control character (%00)'],
    ['/api/v1/pods/p%0A', 'encoded control character (%0A)'],
    ['/api/v1/pods/p%7F', 'encoded control character (%7F)'],
    ['/api/v1/pods/p\u0000', 'control character 0x00'],
    ['/api/v1/pods/p\r', 'control character 0x0d'],
    ['/api/v1/pods/p q', 'space'],
    ['/api/v1/pods/é', 'raw non-ASCII character (percent-encode it as UTF-8)'],
    ['/api/v1/pods/p%zz', 'invalid percent-encoding'],
    ['/api/v1/pods/p%4', 'invalid percent-encoding'],
    ['/api/v1/pods/p%', 'invalid percent-encoding'],
    ['/api/v1/pods/%25', 'encoded percent sign (%25)'],
    ['/api/v1/pods/%252F', 'encoded percent sign (%25)'],
    ['/api/v%31/pods', 'needlessly encoded "1" (%31); send it unencoded'],
    ['/api/v1/pods/a%3Ab', 'needlessly encoded ":" (%3A); send it unencoded'],
    ['/api/v1/pods/(x)', 'character "(" that must be percent-encoded (%28), as client-go sends it'],
    ['/api/v1/pods?watch=true', 'query in the path (pass it separately)'],
    ['/api/v1/pods#x', 'fragment in the path'],
    ['api/v1/pods', 'not an absolute path'],
    ['', 'not an absolute path'],
    ['https://cluster/api/v1/pods', 'not an absolute path'],
  ])('%s', (path, reason) => {
    let thrown: unknown;
    try {
      splitCanonicalPath(path);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ProtocolError);
    expect((thrown as ProtocolError).details).toEqual({ reason });
  });

  it('refuses overlong paths before looking at them', () => {
    expect(() => splitCanonicalPath(`/${'a'.repeat(MAX_PATH_LENGTH)}`)).toThrow(/longer than/);
  });
});
