import { describe, expect, it } from 'vitest';
import { ibanChecksumValid, luhnValid } from './checksums.js';

describe('luhnValid', () => {
  it.each(['4111111111111111', '5500000000000004', '378282246310005', '0'])('accepts %s', (n) => {
    expect(luhnValid(n)).toBe(true);
  });
  it.each(['4111111111111112', '', '41111a1111111111', '1'])('rejects %j', (n) => {
    expect(luhnValid(n)).toBe(false);
  });
});

describe('ibanChecksumValid', () => {
  it.each(['DE89370400440532013000', 'GB82WEST12345698765432', 'NO9386011117947'])('accepts %s', (i) => {
    expect(ibanChecksumValid(i)).toBe(true);
  });
  it.each(['DE89370400440532013001', 'GB82west12345698765432', 'DE89 3704'])('rejects %s', (i) => {
    expect(ibanChecksumValid(i)).toBe(false);
  });
});
