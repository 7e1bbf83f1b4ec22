import { describe, expect, it } from 'vitest';
import { clientResponseHeaders, headerCount, headerNames, upstreamRequestHeaders } from './headers.js';

const base = {
  clientAddress: '10.0.0.7',
  clientProto: 'http' as const,
  upstreamHost: 'api.internal:8443',
  configured: {},
};

function up(raw: string[], configured: Record<string, string> = {}) {
  return upstreamRequestHeaders({ ...base, rawHeaders: raw, configured });
}

describe('upstreamRequestHeaders', () => {
  it.each([
    ['drops the caller token', ['Authorization', 'Bearer eyJ.caller.jwt'], 'authorization'],
    ['drops proxy credentials', ['Proxy-Authorization', 'Basic eDp5'], 'proxy-authorization'],
    ['drops Connection', ['Connection', 'keep-alive'], 'connection'],
    ['drops Keep-Alive', ['Keep-Alive', 'timeout=5'], 'keep-alive'],
    ['drops Proxy-Connection', ['Proxy-Connection', 'keep-alive'], 'proxy-connection'],
    ['drops TE', ['TE', 'trailers'], 'te'],
    ['drops Trailer', ['Trailer', 'X-Sum'], 'trailer'],
    ['drops Transfer-Encoding', ['Transfer-Encoding', 'chunked'], 'transfer-encoding'],
    ['drops Upgrade', ['Upgrade', 'websocket'], 'upgrade'],
    [
      'drops fields named in Connection',
      ['Connection', 'close, X-Secret-Hop', 'x-secret-hop', '1'],
      'x-secret-hop',
    ],
    ['drops a spoofed X-Forwarded-For', ['X-Forwarded-For', '1.2.3.4'], null],
    ['drops Forwarded', ['Forwarded', 'for=1.2.3.4'], 'forwarded'],
    ['drops X-Real-IP', ['X-Real-IP', '1.2.3.4'], 'x-real-ip'],
    ['drops Range', ['Range', 'bytes=0-10'], 'range'],
    ['drops If-Range', ['If-Range', '"etag"'], 'if-range'],
    ['drops Expect', ['Expect', '100-continue'], 'expect'],
  ])('%s', (_name, raw, gone) => {
    const out = up(raw as string[]);
    if (gone !== null) expect(out).not.toHaveProperty(gone);
    expect(out['x-forwarded-for']).toBe('10.0.0.7');
  });

  it('keeps end-to-end fields, cookies and duplicates, lower-cased', () => {
    const out = up([
      'Content-Type',
      'application/json',
      'Content-Length',
      '12',
      'Cookie',
      'a=1',
      'X-Trace',
      't1',
      'x-trace',
      't2',
      'Accept',
      '*/*',
    ]);
    expect(out).toMatchObject({
      'content-type': 'application/json',
      'content-length': '12',
      cookie: 'a=1',
      'x-trace': ['t1', 't2'],
      accept: '*/*',
    });
  });

  it('sets Host, forwarding fields and identity encoding itself', () => {
    const out = up(['Host', 'gw.example:18080', 'Accept-Encoding', 'gzip, br']);
    expect(out).toMatchObject({
      host: 'api.internal:8443',
      'x-forwarded-for': '10.0.0.7',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'gw.example:18080',
      'accept-encoding': 'identity',
    });
  });

  it('adds the configured credentials, which the client cannot replace or remove', () => {
    const out = up(
      [
        'X-Api-Key',
        'client-guess',
        'Connection',
        'authorization, x-api-key',
        'Authorization',
        'Bearer caller',
      ],
      { Authorization: 'Bearer upstream-secret', 'X-Api-Key': 'gateway-key' },
    );
    expect(out['authorization']).toBe('Bearer upstream-secret');
    expect(out['x-api-key']).toBe('gateway-key');
  });
});

describe('clientResponseHeaders', () => {
  const raw = [
    'Content-Type',
    'application/json',
    'Content-Length',
    '42',
    'ETag',
    '"abc"',
    'Content-Encoding',
    'gzip',
    'Set-Cookie',
    'a=1',
    'Set-Cookie',
    'b=2',
    'Connection',
    'keep-alive, X-Hop',
    'X-Hop',
    '1',
    'Keep-Alive',
    'timeout=5',
    'Transfer-Encoding',
    'chunked',
    'Proxy-Authenticate',
    'Basic',
    'Digest',
    'sha-256=x',
    'Accept-Ranges',
    'bytes',
  ];

  it('passes end-to-end fields through when the body is untouched', () => {
    expect(clientResponseHeaders(raw, { bodyRewritten: false, decoded: false })).toEqual({
      'content-type': 'application/json',
      'content-length': '42',
      etag: '"abc"',
      'content-encoding': 'gzip',
      'set-cookie': ['a=1', 'b=2'],
      digest: 'sha-256=x',
      'accept-ranges': 'bytes',
    });
  });

  it('drops what describes the upstream bytes when masking rewrote the body', () => {
    expect(clientResponseHeaders(raw, { bodyRewritten: true, decoded: true })).toEqual({
      'content-type': 'application/json',
      'set-cookie': ['a=1', 'b=2'],
    });
  });

  it('keeps Content-Encoding when the body was not decompressed', () => {
    expect(clientResponseHeaders(raw, { bodyRewritten: true, decoded: false })).toHaveProperty(
      'content-encoding',
      'gzip',
    );
  });
});

describe('header helpers', () => {
  const raw = ['Host', 'x', 'Authorization', 'a', 'authorization', 'b', 'X-Y', 'z'];
  it('counts repeated fields case-insensitively', () => {
    expect(headerCount(raw, 'authorization')).toBe(2);
    expect(headerCount(raw, 'cookie')).toBe(0);
  });
  it('lists distinct lower-cased names in order', () => {
    expect(headerNames(raw)).toEqual(['host', 'authorization', 'x-y']);
  });
});
