import { describe, expect, it } from 'vitest';
import { FULL_MASK, hashMask, partialMask, styleFunction } from './styles.js';

describe('partial style', () => {
  it.each([
    ['4111 1111 1111 1111', '**** **** **** 1111'],
    ['4111-1111-1111-1111', '****-****-****-1111'],
    ['123-45-6789', '***-**-6789'],
    ['bob.smith@example.com', '***.*****@******e.com'],
    ['DE89370400440532013000', '******************3000'],
    ['+1 (555) 234-5678', '+* (***) ***-5678'],
  ])('%s → %s', (value, masked) => {
    expect(partialMask(value)).toBe(masked);
  });

  it('hides short values completely (keeping 4 of fewer than 8 would reveal half or more)', () => {
    expect(partialMask('abc-1234')).toBe('***-****');
    expect(partialMask('secret')).toBe('******');
  });
});

describe('hash style', () => {
  it('is deterministic, keyed and short', () => {
    const a = hashMask('key-1', 'bob@example.com');
    expect(a).toMatch(/^h:[0-9a-f]{16}$/);
    expect(hashMask('key-1', 'bob@example.com')).toBe(a);
    expect(hashMask('key-2', 'bob@example.com')).not.toBe(a);
    expect(hashMask('key-1', 'alice@example.com')).not.toBe(a);
  });

  it('hashes the normalised form when one is given', () => {
    const hash = styleFunction('hash', 'k');
    expect(hash('Bob@Example.com', 'bob@example.com')).toBe(hash('bob@example.com', 'bob@example.com'));
  });
});

describe('full style', () => {
  it('is a fixed mask that does not reveal the length', () => {
    const full = styleFunction('full', undefined);
    expect(full('a', 'a')).toBe(FULL_MASK);
    expect(full('x'.repeat(100), '')).toBe(FULL_MASK);
  });
});
