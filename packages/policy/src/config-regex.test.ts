import { describe, expect, it } from 'vitest';
import { findNestedQuantifier } from './config-regex.js';

describe('findNestedQuantifier', () => {
  it.each([
    '(a+)+',
    '(a*)*',
    '(\\w+\\s?)*',
    '((ab)+c)+',
    '(a{1,5})+',
    '(?:x+y)+',
    '((a+))+',
    '(a|b+)*',
    '(a+){2,}',
  ])('flags %s', (source) => {
    expect(findNestedQuantifier(source)).not.toBeUndefined();
  });

  it.each([
    'a+b+',
    '(ab)+',
    '(a+)?',
    '[(a+)]+',
    '\\(a+\\)+',
    '(\\d{3})+',
    'EMP-\\d{6}',
    '(a)(b+)',
    '(a+)b',
    'x{2}',
  ])('accepts %s', (source) => {
    expect(findNestedQuantifier(source)).toBeUndefined();
  });
});
