import { describe, expect, it } from 'vitest';
import { listenOverlaps, parseListen } from './listen.js';

describe('parseListen', () => {
  it.each([
    ['127.0.0.1:15432', '127.0.0.1', 15432],
    ['0.0.0.0:2222', '0.0.0.0', 2222],
    ['localhost:8080', 'localhost', 8080],
    ['gw.internal.example:443', 'gw.internal.example', 443],
    ['[::1]:15432', '::1', 15432],
    ['[::]:80', '::', 80],
    ['15432', '127.0.0.1', 15432],
    [15432, '127.0.0.1', 15432],
    ['127.0.0.1:0', '127.0.0.1', 0],
  ] as const)('%j → %s port %d', (input, host, port) => {
    expect(parseListen(input)).toEqual({ ok: true, address: { host, port } });
  });

  it.each([
    ['::1:5432', /brackets/],
    ['[::1]', /\[ipv6\]:port/],
    ['[127.0.0.1]:80', /not an IPv6/],
    ['localhost', /host:port/],
    ['localhost:abc', /must be a number/],
    [':80', /host before ":" is empty/],
    ['127.0.0.1:70000', /port 70000 is out of range/],
    [70000, /port 70000 is out of range/],
    [-1, /out of range/],
    ['bad_host!:80', /not an IP address or host name/],
  ] as const)('rejects %j', (input, reason) => {
    const result = parseListen(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });
});

describe('listenOverlaps', () => {
  const at = (host: string, port: number) => ({ host, port });
  it.each([
    [at('127.0.0.1', 1), at('127.0.0.1', 1), true],
    [at('127.0.0.1', 1), at('127.0.0.1', 2), false],
    [at('127.0.0.1', 1), at('127.0.0.2', 1), false],
    [at('0.0.0.0', 1), at('127.0.0.1', 1), true],
    [at('10.0.0.1', 1), at('::', 1), true],
    [at('localhost', 1), at('127.0.0.1', 1), true],
    [at('localhost', 1), at('10.0.0.1', 1), false],
    [at('127.0.0.1', 0), at('127.0.0.1', 0), false],
  ])('%j vs %j → %s', (a, b, expected) => {
    expect(listenOverlaps(a, b)).toBe(expected);
    expect(listenOverlaps(b, a)).toBe(expected);
  });
});
