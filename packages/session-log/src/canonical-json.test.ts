import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  canonicalJsonOfSorted,
  isCanonicalObjectText,
  type JsonValue,
  toCanonicalObject,
  toJsonObject,
} from './canonical-json.js';

const same = (text: string) => text;

describe('canonical JSON', () => {
  it('sorts keys at every level and writes no whitespace', () => {
    const tree = toJsonObject({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } }, same);
    expect(canonicalJsonOfSorted(tree)).toBe('{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
  });

  it('follows JSON.stringify for values JSON cannot hold', () => {
    const tree = toJsonObject(
      {
        when: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)),
        gone: undefined,
        fn: () => 1,
        list: [undefined, Number.NaN, Number.POSITIVE_INFINITY, -0],
        big: 12345678901234567890n,
      },
      same,
    );
    expect(canonicalJsonOfSorted(tree)).toBe(
      '{"big":"12345678901234567890","list":[null,null,null,0],"when":"2024-01-02T03:04:05.000Z"}',
    );
  });

  it('orders index-like keys as strings, not as JavaScript enumerates them', () => {
    const tree = toJsonObject({ b: 1, 10: 'ten', 2: 'two', a: { 1: true, 0: false } }, same);
    expect(canonicalJsonOfSorted(tree)).toBe('{"10":"ten","2":"two","a":{"0":false,"1":true},"b":1}');
  });

  it('keeps a __proto__ key as data', () => {
    const tree = toJsonObject(JSON.parse('{"__proto__":{"x":1},"a":2}'), same);
    expect(Object.getPrototypeOf(tree)).toBe(Object.prototype);
    expect(canonicalJsonOfSorted(tree)).toBe('{"__proto__":{"x":1},"a":2}');
  });

  it('refuses what cannot be data', () => {
    const loop: Record<string, unknown> = {};
    loop['self'] = loop;
    expect(() => toJsonObject(loop, same)).toThrow(/circular/);
    expect(() => toJsonObject([1], same)).toThrow(/JSON object/);
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 100; i++) deep = { deep };
    expect(() => toJsonObject(deep, same)).toThrow(/nested deeper/);
  });

  it('accepts a shared (non-circular) object twice', () => {
    const shared = { x: 1 };
    expect(canonicalJsonOfSorted(toJsonObject({ a: shared, b: shared }, same))).toBe(
      '{"a":{"x":1},"b":{"x":1}}',
    );
  });

  it('maps keys and keeps them distinct when two map to the same text', () => {
    const tree = toJsonObject({ tok1: 1, tok2: 2 }, (s) => (s.startsWith('tok') ? 'T' : s));
    expect(canonicalJsonOfSorted(tree)).toBe('{"T":1,"T#2":2}');
    expect(isCanonicalObjectText(canonicalJsonOfSorted(tree))).toBe(true);
  });

  it('recognises canonical text and rejects everything else', () => {
    expect(isCanonicalObjectText('{"a":1,"b":[1,2]}')).toBe(true);
    expect(isCanonicalObjectText('{"b":1,"a":2}')).toBe(false);
    expect(isCanonicalObjectText('{"a": 1}')).toBe(false);
    expect(isCanonicalObjectText('{"a":1,"a":2}')).toBe(false);
    expect(isCanonicalObjectText('{"a":1.0}')).toBe(false);
    expect(isCanonicalObjectText('[1]')).toBe(false);
    expect(isCanonicalObjectText('not json')).toBe(false);
  });

  it('gives one text per value: fast path, slow path and re-parsing agree', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (value) => {
        const tree = toJsonObject(value, same);
        const text = canonicalJsonOfSorted(tree);
        expect(text).toBe(canonicalJson(tree));
        expect(canonicalJson(JSON.parse(text) as JsonValue)).toBe(text);
        expect(isCanonicalObjectText(text)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('builds the same tree and text in one pass as toJsonObject does with nothing to rewrite', () => {
    const odd = {
      b: 1,
      10: 'ten',
      2: [2, { 1: true, 0: undefined }],
      a: new Date(0),
      n: -0,
      big: 5n,
      f: () => 1,
    };
    for (const value of [odd, JSON.parse('{"__proto__":{"x":1},"a":2}')]) {
      const tree = toJsonObject(value, same);
      expect(toCanonicalObject(value)).toEqual({ tree, text: canonicalJsonOfSorted(tree) });
    }
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (value) => {
        const tree = toJsonObject(value, same);
        const fast = toCanonicalObject(value);
        expect(fast.tree).toEqual(tree);
        expect(fast.text).toBe(canonicalJsonOfSorted(tree));
      }),
      { numRuns: 300 },
    );
    const loop: Record<string, unknown> = {};
    loop['self'] = loop;
    expect(() => toCanonicalObject(loop)).toThrow(/circular/);
    expect(() => toCanonicalObject([1])).toThrow(/JSON object/);
  });
});
