import { describe, expect, it } from 'vitest';
import { checkMethod, checkRequestTarget } from './request-target.js';

describe('checkRequestTarget accepts canonical targets', () => {
  it.each([
    ['/', '/', undefined, ['']],
    ['/api/v1/items', '/api/v1/items', undefined, ['api', 'v1', 'items']],
    ['/items/', '/items/', undefined, ['items', '']],
    ['/users/a%40b.example?x=1', '/users/a%40b.example', 'x=1', ['users', 'a@b.example']],
    ['/v1/items:batchGet', '/v1/items:batchGet', undefined, ['v1', 'items:batchGet']],
    ['/caf%C3%A9', '/caf%C3%A9', undefined, ['café']],
    ['/a%20b', '/a%20b', undefined, ['a b']],
    ['/search?q=a/b?c&d=%2e%2E', '/search', 'q=a/b?c&d=%2e%2E', ['search']],
    ['/x?', '/x', '', ['x']],
    ['/.well-known/openid-configuration', '/.well-known/openid-configuration', undefined, null],
    ['/a/...', '/a/...', undefined, ['a', '...']],
    ['/a/.b/..c', '/a/.b/..c', undefined, null],
    ['/100%25', '/100%25', undefined, ['100%']],
    ['/a;b=c', '/a;b=c', undefined, ['a;b=c']],
  ])('%s', (target, path, query, segments) => {
    const r = checkRequestTarget(target);
    expect(r).toMatchObject({ ok: true, path, query });
    if (segments !== null && r.ok) expect(r.segments).toEqual(segments);
  });
});

describe('checkRequestTarget refuses non-canonical targets', () => {
  it.each([
    ['/a/../b', 'dot segment'],
    ['/a/./b', 'dot segment'],
    ['/..', 'dot segment'],
    ['/a/..', 'dot segment'],
    ['/a/..;x/b', 'dot segment with parameters'],
    ['/a//b', 'empty path segment ("//")'],
    ['//evil.example/x', 'empty path segment ("//")'],
    ['/a/b//', 'empty path segment ("//")'],
    ['/a%2Fb', 'encoded slash (%2F)'],
    ['/a%2fb', 'lower-case percent-encoding "%2f" (use upper case)'],
    ['/a%5Cb', 'encoded backslash (%5C)'],
    ['/a\\b', 'backslash'],
    ['/%2E%2E/admin', 'encoded dot (%2E)'],
    ['/.%2E/admin', 'encoded dot (%2E)'],
    ['/%2e', 'lower-case percent-encoding "%2e" (use upper case)'],
    ['/%41dmin', 'needlessly encoded "A" (%41); send it unencoded'],
    ['/%7E', 'needlessly encoded "~" (%7E); send it unencoded'],
    ['/%252E%252E/admin', 'double percent-encoding (%25XX)'],
    ['/a%zz', 'invalid percent-encoding'],
    ['/a%2', 'invalid percent-encoding'],
    ['/a%', 'invalid percent-encoding'],
    ['/%C0%AE%C0%AE/admin', 'percent-encoding that is not valid UTF-8'],
    ['/%C3', 'percent-encoding that is not valid UTF-8'],
    ['/a%00b', 'encoded control character (%00)'],
    ['/a%0Ab', 'encoded control character (%0A)'],
    ['/a\u0000b', 'control character 0x00'],
    ['/a\tb', 'control character 0x09'],
    ['/a b', 'space'],
    ['/café', 'raw non-ASCII character (percent-encode it as UTF-8)'],
    ['/%EF%BC%8F', 'character U+FF0F that normalises to "/"'],
    ['/%EF%BC%8E%EF%BC%8E/admin', 'segment that normalises to a dot segment'],
    ['/a"b', 'character """ that must be percent-encoded'],
    ['/a{b}', 'character "{" that must be percent-encoded'],
    ['/a#frag', 'fragment in request target'],
    ['/q?a=%00', 'encoded NUL (%00) in query'],
    ['/q?a=%g1', 'invalid percent-encoding in query'],
    ['/q?a=b\\c', 'backslash in query'],
    ['/q?a b', 'space in query'],
    ['http://upstream.internal/admin', 'absolute-form request target (send the path only)'],
    ['upstream.internal:443', 'request target is not an absolute path'],
    ['*', 'asterisk-form request target'],
    ['', 'request target is not an absolute path'],
  ])('%s', (target, reason) => {
    expect(checkRequestTarget(target)).toEqual({ ok: false, reason });
  });
});

describe('checkMethod', () => {
  it.each([
    ['GET', undefined],
    ['PATCH', undefined],
    ['PROPFIND', undefined],
    ['CONNECT', 'method CONNECT is not allowed through the gateway'],
    ['TRACE', 'method TRACE is not allowed through the gateway'],
    ['trace', 'method trace is not allowed through the gateway'],
    ['TRACK', 'method TRACK is not allowed through the gateway'],
    ['GE T', 'method is not an HTTP token'],
    ['', 'method is not an HTTP token'],
    ['G\u00c9T', 'method is not an HTTP token'],
  ])('%s', (method, reason) => {
    expect(checkMethod(method)).toBe(reason);
  });
});
