import { describe, expect, it } from 'vitest';
import { canonicalJsonOfSorted, toJsonObject } from './canonical-json.js';
import { REDACTED, secretRedactor } from './redact.js';

describe('secretRedactor', () => {
  it('replaces every occurrence of every secret', () => {
    const redact = secretRedactor(['s3cret', 'tok']);
    expect(redact('a s3cret and s3cret, tok!')).toBe(`a ${REDACTED} and ${REDACTED}, ${REDACTED}!`);
  });

  it('removes a secret that contains another secret whole', () => {
    expect(secretRedactor(['abc', 'abcdef'])('xabcdefx')).toBe(`x${REDACTED}x`);
  });

  it('never rewrites the marker, even when a secret occurs in it', () => {
    expect(secretRedactor(['hunter2', 'RED'])('hunter2 RED')).toBe(`${REDACTED} ${REDACTED}`);
  });

  it('treats secrets as text, not patterns, and ignores empty ones', () => {
    const redact = secretRedactor(['', 'a.b*(c)[d]$', '']);
    expect(redact('x a.b*(c)[d]$ y aXb')).toBe(`x ${REDACTED} y aXb`);
    expect(secretRedactor([''])('anything')).toBe('anything');
    expect(secretRedactor(undefined)('anything')).toBe('anything');
  });

  it('reaches nested values, array items and keys', () => {
    const token = 'eyJhbGciOiJSUzI1NiJ9.payload.sig';
    const tree = toJsonObject(
      { text: `password '${token}'`, nested: { list: [token, { [token]: 1 }] }, n: 5 },
      secretRedactor([token]),
    );
    const text = canonicalJsonOfSorted(tree);
    expect(text).not.toContain(token);
    expect(tree).toEqual({
      n: 5,
      nested: { list: [REDACTED, { [REDACTED]: 1 }] },
      text: `password '${REDACTED}'`,
    });
  });
});
