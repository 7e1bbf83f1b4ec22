import { ProtocolError } from '@gatehouse/core';
import { describe, expect, it } from 'vitest';
import { nameFromFieldSelector, parseFieldSelector } from './field-selector.js';

describe('parseFieldSelector follows apimachinery fields.ParseSelector', () => {
  it.each([
    ['metadata.name=a', [{ field: 'metadata.name', op: '=', value: 'a' }]],
    ['metadata.name==a', [{ field: 'metadata.name', op: '==', value: 'a' }]],
    ['metadata.name!=a', [{ field: 'metadata.name', op: '!=', value: 'a' }]],
    [
      'status.phase=Running,spec.nodeName=n1',
      [
        { field: 'status.phase', op: '=', value: 'Running' },
        { field: 'spec.nodeName', op: '=', value: 'n1' },
      ],
    ],
    ['a=x\\,y', [{ field: 'a', op: '=', value: 'x,y' }]],
    ['a=x\\=y\\\\', [{ field: 'a', op: '=', value: 'x=y\\' }]],
    ['a!b=c', [{ field: 'a!b', op: '=', value: 'c' }]],
    ['metadata.name=a,', [{ field: 'metadata.name', op: '=', value: 'a' }]],
    ['', []],
  ])('%s', (selector, terms) => {
    expect(parseFieldSelector(selector)).toEqual(terms);
  });

  it.each([
    'metadata.name=name1,foo', // a term without an operator
    'a=b=c', // an unescaped "=" in a value
    'a=b\\', // a dangling escape
    'a=b\\x', // an unknown escape
  ])('rejects %s', (selector) => {
    expect(parseFieldSelector(selector)).toBeUndefined();
  });
});

describe('nameFromFieldSelector', () => {
  it.each([
    ['metadata.name=web-0', 'web-0'],
    ['metadata.name==web-0', 'web-0'],
    ['status.phase=Running,metadata.name=web-0', 'web-0'],
    ['metadata.name=a,metadata.name==a', 'a'],
    ['metadata.name!=web-0', undefined],
    ['metadata.namespace=x', undefined],
    ['metadata.name=', undefined],
    // Not a valid path segment name: the server keeps no name either.
    ['metadata.name=..', undefined],
    ['metadata.name=a/b', undefined],
    ['metadata.name=100%', undefined],
    ['metadata.name=name1,foo', undefined],
  ])('%s', (selector, name) => {
    expect(nameFromFieldSelector(selector)).toBe(name);
  });

  it('refuses two different required names: the server would pick one by sorting', () => {
    expect(() => nameFromFieldSelector('metadata.name=b,metadata.name=a')).toThrow(ProtocolError);
  });
});
