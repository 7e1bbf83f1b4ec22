import { ProtocolError } from '@gatehouse/core';
import { describe, expect, it } from 'vitest';
import { MAX_QUERY_LENGTH, MAX_QUERY_PARAMS, parseQuery, readBoolean } from './query-params.js';

function reasonOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    return (err as ProtocolError).details['reason'];
  }
  throw new Error('expected a ProtocolError');
}

describe('parseQuery decodes as Go url.ParseQuery does', () => {
  it('keeps order, repeats and form encoding', () => {
    const q = parseQuery('command=sh&command=-c&command=echo+a%2Fb+%26%26+id&stdin=true&empty=&flag');
    expect(q.all('command')).toEqual(['sh', '-c', 'echo a/b && id']);
    expect(q.pairs).toContainEqual(['empty', '']);
    expect(q.pairs).toContainEqual(['flag', '']);
    expect(q.single('stdin')).toBe('true');
    expect(q.single('tty')).toBeUndefined();
  });

  it('skips empty pairs and accepts lower-case escapes, like Go', () => {
    expect(parseQuery('&&a=%2f&').pairs).toEqual([['a', '/']]);
  });

  it('takes an already parsed URLSearchParams', () => {
    const q = parseQuery(
      new URLSearchParams([
        ['command', 'a;b'],
        ['container', 'app'],
      ]),
    );
    expect(q.all('command')).toEqual(['a;b']);
    expect(q.single('container')).toBe('app');
  });

  it('keeps newlines and tabs inside values: scripts passed to sh -c have them', () => {
    expect(parseQuery('command=a%0Ab%09c').all('command')).toEqual(['a\nb\tc']);
  });
});

describe('parseQuery refuses queries the server and a proxy could read differently', () => {
  it.each([
    // Go drops the pair `watch=false;x`, leaving `watch=true`; others keep it.
    ['watch=false;x&watch=true', '";" (the API server drops such pairs; encode it as %3B)'],
    [
      'watch=true&watch=false',
      'parameter "watch" given more than once (the API server reads the first, others the last)',
    ],
    [
      'dryRun=All&dryRun=All',
      'parameter "dryRun" given more than once (the API server reads the first, others the last)',
    ],
    [
      'container=a&container=b',
      'parameter "container" given more than once (the API server reads the first, others the last)',
    ],
    [
      'tty=true&tty=false',
      'parameter "tty" given more than once (the API server reads the first, others the last)',
    ],
    ['DryRun=All', 'parameter "DryRun" differs from "dryRun" only by case (the API server ignores it)'],
    ['WATCH=1', 'parameter "WATCH" differs from "watch" only by case (the API server ignores it)'],
    ['Command=rm', 'parameter "Command" differs from "command" only by case (the API server ignores it)'],
    ['command=a%00b', 'NUL character'],
    ['a%00=1', 'NUL character'],
    ['a=%zz', 'invalid percent-encoding'],
    ['a=%4', 'invalid percent-encoding'],
    ['a=%C0%AE', 'percent-encoding that is not valid UTF-8'],
    ['a=%FF', 'percent-encoding that is not valid UTF-8'],
    ['a=b c', 'space'],
    ['a=b\nc', 'control character 0x0a'],
    ['a=é', 'raw non-ASCII character'],
    ['a=b#c', 'fragment'],
    ['a="b"', 'character """ that must be percent-encoded'],
    ['a=b\\c', 'character "\\" that must be percent-encoded'],
    ['?watch=true', 'starts with "?" (pass the part after the "?")'],
  ])('%s', (query, reason) => {
    expect(reasonOf(() => parseQuery(query))).toBe(reason);
  });

  it('refuses duplicates and NUL in a parsed URLSearchParams too', () => {
    expect(reasonOf(() => parseQuery(new URLSearchParams('watch=1&watch=0')))).toMatch(/more than once/);
    expect(reasonOf(() => parseQuery(new URLSearchParams([['command', 'a\u0000']])))).toBe('NUL character');
  });

  it('refuses oversized queries', () => {
    expect(reasonOf(() => parseQuery(`a=${'x'.repeat(MAX_QUERY_LENGTH)}`))).toMatch(/longer than/);
    expect(reasonOf(() => parseQuery(new URLSearchParams({ a: 'x'.repeat(MAX_QUERY_LENGTH) })))).toMatch(
      /longer than/,
    );
    expect(reasonOf(() => parseQuery('a=1&'.repeat(MAX_QUERY_PARAMS + 1)))).toMatch(/more than/);
  });
});

describe('readBoolean', () => {
  it.each([
    ['true', true],
    ['True', true],
    ['1', true],
    ['false', false],
    ['FALSE', false],
    ['0', false],
  ])('%s', (value, expected) => {
    expect(readBoolean(parseQuery(`watch=${value}`), 'watch')).toBe(expected);
  });

  it('is undefined when absent', () => {
    expect(readBoolean(parseQuery(''), 'watch')).toBeUndefined();
  });

  // The server reads each of these as true; a reader expecting false or an error would not.
  it.each(['', 'yes', 'no', 'off', 'falsе', '2', 'true '])('refuses %j', (value) => {
    expect(reasonOf(() => readBoolean(parseQuery(new URLSearchParams({ watch: value })), 'watch'))).toMatch(
      /not true, false, 1 or 0/,
    );
  });
});
