import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { compileGlobs } from './glob.js';

describe('name globs', () => {
  it.each([
    ['agent-*', 'agent-1', true],
    ['agent-*', 'agent-', true],
    ['agent-*', 'agents', false],
    ['*', '', true],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['*.internal:*', 'db.internal:5432', true],
    ['a*b*c', 'a/x/b/y/c', true],
    ['literal.name', 'literal.name', true],
    ['literal.name', 'literalXname', false],
    ['(x)[y]', '(x)[y]', true],
  ])('%s vs %s → %s', (pattern, value, matches) => {
    expect(compileGlobs([pattern]).test(value)).toBe(matches);
  });

  it('compares case-insensitively on request', () => {
    expect(compileGlobs(['Orders', 'pub*'], { caseInsensitive: true }).test('ORDERS')).toBe(true);
    expect(compileGlobs(['pub*'], { caseInsensitive: true }).test('PUBLIC')).toBe(true);
    expect(compileGlobs(['Orders']).test('orders')).toBe(false);
  });
});

describe('path globs', () => {
  it.each([
    ['/api/*', '/api/users', true],
    ['/api/*', '/api/users/1', false],
    ['/api/**', '/api/users/1', true],
    ['/api/**', '/api/', true],
    ['/api/**', '/api', false],
    ['/a/**/b', '/a/b', true],
    ['/a/**/b', '/a/x/y/b', true],
    ['/a/**/b', '/a/xb', false],
    ['/v?/x', '/v1/x', true],
    ['/v?/x', '//x', false],
    ['**/secret', '/a/b/secret', true],
  ])('%s vs %s → %s', (pattern, value, matches) => {
    expect(compileGlobs([pattern], { path: true }).test(value)).toBe(matches);
  });
});

describe('glob performance', () => {
  it('runs in linear time on patterns that make regexes backtrack', () => {
    const glob = compileGlobs(['*a*a*a*a*a*a*b']);
    const value = 'a'.repeat(20_000);
    const start = performance.now();
    expect(glob.test(value)).toBe(false);
    expect(performance.now() - start).toBeLessThan(1000);
  });
});
