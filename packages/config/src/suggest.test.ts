import { describe, expect, it } from 'vitest';
import { closest } from './suggest.js';

describe('closest', () => {
  const keys = ['listen', 'name', 'protocol', 'upstream', 'connections', 'policy', 'policies'];
  it.each([
    ['lisen', 'listen'],
    ['protcol', 'protocol'],
    ['upsteam', 'upstream'],
    ['conections', 'connections'],
    ['Listen', 'listen'],
    ['polices', 'policies'],
  ])('%s → %s', (word, expected) => {
    expect(closest(word, keys)).toBe(expected);
  });

  it.each(['x', 'database', 'completely-different'])('no suggestion for %s', (word) => {
    expect(closest(word, keys)).toBeUndefined();
  });
});
