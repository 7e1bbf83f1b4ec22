import { describe, expect, it } from 'vitest';
import { numericFinder } from './numeric-finder.js';

function found(text: string, detector: 'card' | 'ssn' | 'phone'): string[] {
  const out: string[] = [];
  numericFinder.find(text, new Set([detector]), (d, s, e) => {
    if (d === detector) out.push(text.slice(s, e));
  });
  return out;
}

describe('card detector', () => {
  it.each([
    ['4111111111111111', '4111111111111111'],
    ['card 4111 1111 1111 1111 exp 12/27', '4111 1111 1111 1111'],
    ['4111-1111-1111-1111', '4111-1111-1111-1111'],
    ['mastercard 5555555555554444.', '5555555555554444'],
    ['mc 2-series 2221000000000009', '2221000000000009'],
    ['amex 3782 822463 10005', '3782 822463 10005'],
    ['amex 340000000000009', '340000000000009'],
    ['discover 6011111111111117', '6011111111111117'],
    ['jcb 3530111333300000', '3530111333300000'],
    ['visa 13 4222222222222', '4222222222222'],
    ['diners 36227206271667', '36227206271667'],
    ['{"pan":"4000056655665556"}', '4000056655665556'],
    ['12 4111 1111 1111 1111 trailing', '4111 1111 1111 1111'],
    ['4111 1111 1111 1111 2024', '4111 1111 1111 1111'],
    ['card:4111111111111111;', '4111111111111111'],
  ])('finds the card in %j', (text, card) => {
    expect(found(text, 'card')).toEqual([card]);
  });

  it.each([
    ['16-digit order id failing Luhn', 'order 4111111111111112 shipped'],
    ['another Luhn failure', 'ref 4532015112830367'],
    ['issuer prefix 1 (epoch millis)', 'ts 1709251200000'],
    ['compact timestamp (2024 is not an issuer)', 'at 20240301123000'],
    ['compact timestamp with millis', '20240301123000123'],
    ['grouped number starting with 1', '1234 5678 9012 3456'],
    ['list of small numbers', 'qty 100 200 300 400 500 600'],
    ['UUID', '550e8400-e29b-41d4-a716-446655440000'],
    ['all-digit UUID', '12345678-1234-1234-1234-123456789012'],
    ['version string', 'v10.2.3.4567'],
    ['ISO date and time', '2024-03-01T12:30:00Z 2024-03-01 12:30:00'],
    ['too long digit run containing a card', '41111111111111111111111'],
    ['12 digits', '411111111111'],
    ['glued to a word', 'ref4111111111111111'],
    ['decimal amount', '4111111111.111111'],
    ['IP address', '192.168.100.200'],
  ])('ignores %s', (_, text) => {
    expect(found(text, 'card')).toEqual([]);
  });
});

describe('ssn detector', () => {
  it.each([
    ['ssn 123-45-6789', '123-45-6789'],
    ['123 45 6789', '123 45 6789'],
    ['SSN: 123456789', '123456789'],
    ['social security number 078051120', '078051120'],
    ['{"ssn":"123456789"}', '123456789'],
  ])('finds the SSN in %j', (text, ssn) => {
    expect(found(text, 'ssn')).toEqual([ssn]);
  });

  it.each([
    ['area 000', '000-12-3456'],
    ['area 666', '666-12-3456'],
    ['area 9xx', '912-34-5678'],
    ['group 00', '123-00-4567'],
    ['serial 0000', '123-45-0000'],
    ['bare 9 digits without a label', 'order 123456789'],
    ['date', '2024-12-31'],
    ['phone', '555-234-5678'],
    ['part of a longer dashed number', '1-123-45-6789-0'],
    ['mixed separators', '123-45 6789'],
    ['zip+4', '12345-6789'],
  ])('ignores %s', (_, text) => {
    expect(found(text, 'ssn')).toEqual([]);
  });
});

describe('phone detector', () => {
  it.each([
    ['call (555) 123-4567 now', '(555) 123-4567'],
    ['555-123-4567', '555-123-4567'],
    ['555.234.5678', '555.234.5678'],
    ['555 234 5678', '555 234 5678'],
    ['1-555-234-5678', '1-555-234-5678'],
    ['(555)234-5678', '(555)234-5678'],
    ['+1 555 234 5678', '+1 555 234 5678'],
    ['+1 (555) 234-5678', '+1 (555) 234-5678'],
    ['+15552345678', '+15552345678'],
    ['+44 20 7946 0958', '+44 20 7946 0958'],
    ['tel:+49-30-1234567', '+49-30-1234567'],
    ['on 2024-03-01 555-234-5678', '555-234-5678'],
  ])('finds the phone in %j', (text, phone) => {
    expect(found(text, 'phone')).toEqual([phone]);
  });

  it.each([
    ['version string', '1.2.3.4'],
    ['long version string', '10.2.3.4567'],
    ['ISO date', '2024-03-01'],
    ['date and time', '2024-03-01 12:30:00'],
    ['plain 10-digit id', 'id 5552345678'],
    ['plain long id', '123456789012345'],
    ['E.164 too short', '+1234567'],
    ['E.164 too long', '+1234567890123456'],
    ['sum', '3+12345678'],
    ['part of a longer dashed number', '12-555-234-5678'],
    ['followed by more of the same', '555 234 5678 9'],
    ['UUID', '12345678-1234-1234-1234-123456789012'],
    ['IP address', '10.200.300.4000'],
  ])('ignores %s', (_, text) => {
    expect(found(text, 'phone')).toEqual([]);
  });
});
