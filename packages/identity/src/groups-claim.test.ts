import { describe, expect, it } from 'vitest';
import { extractGroups } from './groups-claim.js';

describe('extractGroups', () => {
  it('reads a top-level array', () => {
    expect(extractGroups({ groups: ['a', 'b'] }, 'groups')).toEqual(['a', 'b']);
  });

  it('splits a single string on spaces and commas', () => {
    expect(extractGroups({ groups: 'a b,c , d' }, 'groups')).toEqual(['a', 'b', 'c', 'd']);
  });

  it('follows a dotted path', () => {
    const claims = { realm_access: { roles: ['admin', 'dev'] } };
    expect(extractGroups(claims, 'realm_access.roles')).toEqual(['admin', 'dev']);
  });

  it('prefers an exact URL-shaped key over a dotted path', () => {
    const claims = { 'https://example.com/groups': ['x'], https: { 'example.com/groups': ['y'] } };
    expect(extractGroups(claims, 'https://example.com/groups')).toEqual(['x']);
  });

  it('falls back to the dotted path when no exact key exists', () => {
    expect(extractGroups({ a: { b: 'one two' } }, 'a.b')).toEqual(['one', 'two']);
  });

  it('returns no groups for a missing claim', () => {
    expect(extractGroups({ sub: 'x' }, 'groups')).toEqual([]);
    expect(extractGroups({ realm_access: {} }, 'realm_access.roles')).toEqual([]);
  });

  it.each([
    ['number', 5],
    ['object', { a: 1 }],
    ['mixed array', ['a', 1]],
    ['null', null],
    ['boolean', true],
  ])('returns no groups for a %s', (_name, value) => {
    expect(extractGroups({ groups: value }, 'groups')).toEqual([]);
  });

  it('drops empty entries and duplicates', () => {
    expect(extractGroups({ groups: ['a', '', 'a', 'b'] }, 'groups')).toEqual(['a', 'b']);
  });

  it('does not walk into the prototype chain', () => {
    expect(extractGroups({}, 'constructor.name')).toEqual([]);
    expect(extractGroups({ a: [] }, 'a.length')).toEqual([]);
  });
});
