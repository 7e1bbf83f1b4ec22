import { describe, expect, it } from 'vitest';
import { decodeAnsiC } from './ansi-c.js';

describe('decodeAnsiC', () => {
  // Expected values checked against bash 5.2: printf '%s' $'…' | od -c
  it.each([
    ['plain', 'plain'],
    ['\\x72m', 'rm'],
    ['\\x72\\x6d', 'rm'],
    ['\\162\\155', 'rm'],
    ['\\u0072\\u006d', 'rm'],
    ['\\U00000072m', 'rm'],
    ['\\101', 'A'],
    ['\\1012', 'A2'],
    ['\\x414', 'A4'],
    ['\\u00e9', 'é'],
    ['\\xc3\\xa9', 'é'],
    ['\\U0001F600', '😀'],
    ['a\\nb', 'a\nb'],
    ['\\t\\r\\v\\f\\a\\b', '\t\r\v\f\x07\x08'],
    ['\\e\\E', '\x1b\x1b'],
    ["\\'", "'"],
    ['\\"', '"'],
    ['\\\\', '\\'],
    ['\\?', '?'],
    ['\\cA\\ca', '\x01\x01'],
    ['\\c?', '\x7f'],
    ['\\q', '\\q'],
    ['\\x', '\\x'],
    ['\\u', '\\u'],
  ])('$%s', (body, value) => {
    expect(decodeAnsiC(body)).toBe(value);
  });

  it('ends the value at a NUL byte, as bash does', () => {
    expect(decodeAnsiC('r\\0junk')).toBe('r');
    expect(decodeAnsiC('r\\x00junk')).toBe('r');
    expect(decodeAnsiC('r\\u0000junk')).toBe('r');
    expect(decodeAnsiC('r\\c@junk')).toBe('r');
  });
});
