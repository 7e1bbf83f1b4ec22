import { describe, expect, it } from 'vitest';

import { maskFailedText, maskStringLiterals } from './failed-text.js';

describe('maskStringLiterals', () => {
  it.each([
    ["PASSWORD 'a''b' x", "PASSWORD '[REDACTED]' x"],
    ["PASSWORD E'a\\'b' x", "PASSWORD E'[REDACTED]' x"],
    ["PASSWORD 'a\\' x", "PASSWORD '[REDACTED]' x"],
    ['PASSWORD $$a$$ x', "PASSWORD '[REDACTED]' x"],
    ["PASSWORD $t$a'$$b$t$ x", "PASSWORD '[REDACTED]' x"],
    ["PASSWORD 'unterminated and the rest", "PASSWORD '[REDACTED]'"],
    ["/* it's */ -- don't\n\"it's\" 'x'", "/* it's */ -- don't\n\"it's\" '[REDACTED]'"],
    ['a$b$ $1 $', 'a$b$ $1 $'],
  ])('%s', (text, masked) => {
    expect(maskStringLiterals(text)).toBe(masked);
  });
});

describe('maskFailedText', () => {
  it('masks only texts that may carry a credential, error message included', () => {
    expect(maskFailedText("SELECT 'x' FRM t", 'syntax error at or near "FRM"')).toEqual({
      text: "SELECT 'x' FRM t",
      error: 'syntax error at or near "FRM"',
      masked: false,
    });
    expect(
      maskFailedText(
        "CREATE ROLE r PASSWORD 'pw",
        `unterminated quoted string at or near "'pw" (position 24)`,
      ),
    ).toEqual({
      text: "CREATE ROLE r PASSWORD '[REDACTED]'",
      error: 'unterminated quoted string at or near [REDACTED] (position 24)',
      masked: true,
    });
  });
});
