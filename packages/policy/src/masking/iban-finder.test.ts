import { describe, expect, it } from 'vitest';
import { ibanFinder } from './iban-finder.js';

function found(text: string): string[] {
  const out: string[] = [];
  ibanFinder.find(text, new Set(['iban']), (_, s, e) => out.push(text.slice(s, e)));
  return out;
}

describe('iban detector', () => {
  it.each([
    ['DE89370400440532013000', 'DE89370400440532013000'],
    ['pay to DE89 3704 0044 0532 0130 00 today', 'DE89 3704 0044 0532 0130 00'],
    ['GB82 WEST 1234 5698 7654 32', 'GB82 WEST 1234 5698 7654 32'],
    ['FR1420041010050500013M02606', 'FR1420041010050500013M02606'],
    ['nl91abna0417164300', 'nl91abna0417164300'],
    ['CH93 0076 2011 6238 5295 7.', 'CH93 0076 2011 6238 5295 7'],
    ['NO9386011117947', 'NO9386011117947'],
    ['iban=DE89370400440532013000;', 'DE89370400440532013000'],
  ])('finds the IBAN in %j', (text, iban) => {
    expect(found(text)).toEqual([iban]);
  });

  it.each([
    ['bad checksum', 'DE89370400440532013001'],
    ['wrong length for the country', 'DE8937040044053201300'],
    ['longer run of characters', 'DE89370400440532013000X'],
    ['unknown country', 'ZZ89370400440532013000'],
    ['glued to a word', 'xDE89370400440532013000'],
    ['product code', 'AB12 CD34 EF56'],
    ['double spaces break a group', 'DE89  3704 0044 0532 0130 00'],
  ])('ignores %s', (_, text) => {
    expect(found(text)).toEqual([]);
  });
});
