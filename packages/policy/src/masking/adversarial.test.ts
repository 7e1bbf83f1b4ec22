import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { compileMasking } from './compile-masking.js';

const SIZE = 100_000;
const fill = (unit: string): string => unit.repeat(Math.ceil(SIZE / unit.length)).slice(0, SIZE);

/**
 * Hostile inputs against every built-in detector at once. Each must be masked in time linear in
 * its size: the bound is ~50× what these take on a slow shared core, far below what a
 * backtracking regex would need (minutes to forever).
 */
const CASES: Array<[string, string]> = [
  ['digits', fill('7')],
  ['spaced digits', fill('1 ')],
  ['card groups', fill('4111 ')],
  ['dashed groups', fill('123-')],
  ['plus digits', fill('+1 ')],
  ['parens', fill('(5')],
  ['dots and digits', fill('1.')],
  ['at signs', fill('a@')],
  ['at signs and dots', fill('a@a.')],
  ['one at sign, long domain', `@${fill('a.')}`],
  ['long local part', `${fill('a')}@example.com`],
  ['iban starts', fill('AB12')],
  ['iban groups', fill('DE89 ')],
  ['jwt prefix', fill('eyJ')],
  ['jwt parts', fill('eyJa.')],
  ['long jwt-like', `eyJ${fill('a')}.b.c`],
  ['begin markers', fill('-----BEGIN ')],
  ['end markers', `-----BEGIN PRIVATE KEY-----${fill('-----END ')}`],
  ['github prefix', `ghp_${fill('a')}_`],
  ['github prefixes', fill('ghp_')],
  ['slack prefixes', fill('xoxb-')],
  ['stripe prefixes', fill('sk_live_')],
  ['aws prefixes', fill('AKIA')],
  ['ssn label', fill('ssn 123456789 ')],
  ['unicode', fill('é@ü.')],
];

describe('masking under hostile input', () => {
  const masker = compileMasking(undefined, undefined).masker('pg', { subject: 's', groups: [], issuer: 'i' });

  it.each(CASES)('%s: 100 KB in bounded time', (_, text) => {
    masker.maskText(text.slice(0, 1000)); // warm up the code paths
    const start = performance.now();
    const out = masker.maskText(text);
    const elapsed = performance.now() - start;
    expect(typeof out).toBe('string');
    expect(elapsed).toBeLessThan(1500);
  });
});
