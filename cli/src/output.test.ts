import { describe, expect, it } from 'vitest';
import { jsonText, printable } from './output.js';

describe('printable', () => {
  it('escapes escape sequences, BEL, backspace and carriage return', () => {
    expect(printable('\u001b[2J\u001b]52;c;eA==\u0007a\b\rb')).toBe('^[[2J^[]52;c;eA==\\x07a\\x08\\x0db');
  });

  it('escapes a newline, so that a value cannot forge a line or a table row', () => {
    expect(printable('agent\nFORGED-ROW  2026-01-01')).toBe('agent\\nFORGED-ROW  2026-01-01');
    expect(printable('a\tb')).toBe('a\\tb');
  });

  it('escapes 8-bit C1 controls, bidi overrides and isolates, and Unicode line separators', () => {
    expect(printable('\u009b2J')).toBe('\\x9b2J');
    expect(printable('abc\u202eevil\u2066x\u2069\u200f')).toBe(
      'abc\\u{202e}evil\\u{2066}x\\u{2069}\\u{200f}',
    );
    expect(printable('a\u2028b\u2029c')).toBe('a\\u{2028}b\\u{2029}c');
  });

  it('keeps newlines and tabs when asked (multi-line error messages), and nothing else', () => {
    expect(printable('line 1\n\tline 2\u001b[2J', { multiline: true })).toBe('line 1\n\tline 2^[[2J');
  });

  it('leaves ordinary text alone, non-Latin scripts and emoji included', () => {
    expect(printable('rm -rf /tmp/x — ok, 5€, é, 日本, עברית, 😀')).toBe(
      'rm -rf /tmp/x — ok, 5€, é, 日本, עברית, 😀',
    );
  });
});

describe('jsonText', () => {
  it('escapes invisible reordering characters and stays valid JSON with the same value', () => {
    const value = { text: 'a\u202eb\u2028c\u001b' };
    const text = jsonText(value, 2);
    expect(text).not.toMatch(/[\u202e\u2028\u001b]/);
    expect(JSON.parse(text)).toEqual(value);
  });
});
