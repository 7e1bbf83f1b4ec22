import { describe, expect, it } from 'vitest';
import { parseHttpOptions } from './options.js';
import { parseUpstream, upstreamPath } from './upstream.js';

describe('parseUpstream', () => {
  it.each([
    [
      { url: 'http://api.internal:8080/base/', headers: { 'X-Key': 'k' } },
      { secure: false, hostname: 'api.internal', port: 8080, host: 'api.internal:8080', basePath: '/base' },
    ],
    [{ url: 'https://api.internal' }, { secure: true, port: 443, host: 'api.internal', basePath: '' }],
    [{ url: 'http://[::1]:9000/' }, { hostname: '::1', port: 9000, host: '[::1]:9000', basePath: '' }],
  ])('%j', (upstream, expected) => {
    expect(parseUpstream(upstream)).toMatchObject(expected);
  });

  it.each([
    [{}, 'http upstream: `url` is required'],
    [{ url: 'nope' }, 'http upstream: "nope" is not a URL'],
    [{ url: 'ftp://x' }, 'http upstream: `url` must be http:// or https://'],
    [{ url: 'http://u:p@x' }, 'http upstream: put credentials in `headers`, not in the URL'],
    [{ url: 'http://x/?a=1' }, 'http upstream: `url` must not have a query or fragment'],
    [{ url: 'http://x', headers: [] }, 'http upstream: `headers` must map names to values'],
    [{ url: 'http://x', headers: { 'bad name': 'v' } }, 'http upstream: header name "bad name" is not valid'],
    [
      { url: 'http://x', headers: { Authorization: 'Bearer s3cret\r\nX-Evil: 1' } },
      'http upstream: the value of header "Authorization" is not a valid header value',
    ],
  ])('refuses %j', (upstream, message) => {
    expect(() => parseUpstream(upstream)).toThrow(message);
  });

  it('never puts a header value in its messages', () => {
    expect(() => parseUpstream({ url: 'http://x', headers: { A: 's3cret\n' } })).toThrow(/^(?!.*s3cret)/);
  });
});

describe('upstreamPath', () => {
  it.each([
    ['', '/', undefined, '/'],
    ['/base', '/', undefined, '/base/'],
    ['/base', '/items', 'a=1', '/base/items?a=1'],
    ['/base', '/items', '', '/base/items?'],
  ])('%s + %s ? %s', (base, path, query, expected) => {
    expect(upstreamPath(base, path, query)).toBe(expected);
  });
});

describe('parseHttpOptions', () => {
  it('takes milliseconds, durations, or falls back to defaults', () => {
    expect(
      parseHttpOptions({
        handshakeTimeoutMs: 1500,
        upstreamTimeout: '2m',
        keepAliveTimeout: 'soon',
        maxHeaderBytes: -1,
      }),
    ).toEqual({
      handshakeTimeoutMs: 1500,
      keepAliveTimeoutMs: 5_000,
      upstreamTimeoutMs: 120_000,
      maxHeaderBytes: 16 * 1024,
      maxJsonTokenChars: 8 * 1024 * 1024,
    });
  });
});
