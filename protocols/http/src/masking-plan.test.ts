import { describe, expect, it } from 'vitest';
import { maskingPlan, responseHasBody } from './masking-plan.js';

describe('maskingPlan', () => {
  it.each([
    ['application/json', undefined, { kind: 'json', decode: undefined }],
    ['application/json; charset=utf-8', 'identity', { kind: 'json', decode: undefined }],
    ['application/problem+json', undefined, { kind: 'json', decode: undefined }],
    ['application/vnd.api+json', 'gzip', { kind: 'json', decode: 'gzip' }],
    ['application/x-ndjson', undefined, { kind: 'json', decode: undefined }],
    ['text/json', undefined, { kind: 'json', decode: undefined }],
    ['APPLICATION/JSON', 'BR', { kind: 'json', decode: 'br' }],
    ['text/plain', undefined, { kind: 'text', decode: undefined, encoding: 'utf8' }],
    ['text/html; charset="UTF-8"', 'deflate', { kind: 'text', decode: 'deflate', encoding: 'utf8' }],
    ['text/csv; charset=iso-8859-1', undefined, { kind: 'text', decode: undefined, encoding: 'latin1' }],
    ['text/event-stream', undefined, { kind: 'text', decode: undefined, encoding: 'utf8' }],
    ['application/xml', 'x-gzip', { kind: 'text', decode: 'gzip', encoding: 'utf8' }],
    ['application/atom+xml', undefined, { kind: 'text', decode: undefined, encoding: 'utf8' }],
    ['application/x-www-form-urlencoded', undefined, { kind: 'text', decode: undefined, encoding: 'utf8' }],
    [undefined, undefined, { kind: 'text', decode: undefined, encoding: 'utf8' }],
    ['', undefined, { kind: 'text', decode: undefined, encoding: 'utf8' }],
    ['application/octet-stream', 'zstd', { kind: 'none' }],
    ['image/png', undefined, { kind: 'none' }],
    ['application/pdf', 'gzip', { kind: 'none' }],
    ['application/grpc', undefined, { kind: 'none' }],
    [
      'application/json',
      'zstd',
      { kind: 'refuse', reason: 'cannot mask a application/json response with Content-Encoding zstd' },
    ],
    [
      'text/plain',
      'gzip, br',
      { kind: 'refuse', reason: 'cannot mask a text/plain response with Content-Encoding gzip, br' },
    ],
    [
      'text/plain; charset=utf-16le',
      undefined,
      { kind: 'refuse', reason: 'cannot mask text in charset utf-16le' },
    ],
  ])('%s / %s', (type, encoding, plan) => {
    expect(maskingPlan(type, encoding)).toEqual(plan);
  });
});

describe('responseHasBody', () => {
  it.each([
    ['GET', 200, true],
    ['HEAD', 200, false],
    ['GET', 204, false],
    ['GET', 304, false],
    ['GET', 101, false],
    ['POST', 500, true],
  ])('%s %d', (method, status, expected) => {
    expect(responseHasBody(method, status)).toBe(expected);
  });
});
