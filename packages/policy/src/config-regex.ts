import { ConfigError } from '@gatehouse/core';

/**
 * Regexes from the config file run on text that clients control, on the hot path. A pattern with a
 * nested quantifier such as `(a+)+` or `(\w+\s?)*` backtracks exponentially on a crafted input and
 * would stall the gateway, so such patterns are refused at load time. This is a syntactic check:
 * it catches the common shapes, not every super-linear regex (e.g. `(a|a)*`).
 */
export function compileConfigRegex(pattern: string, flags: string, path: string): RegExp {
  let re: RegExp;
  try {
    re = new RegExp(pattern, flags);
  } catch (err) {
    const reason = (err as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
    throw new ConfigError(`invalid regular expression: ${reason}`, { path, cause: err });
  }
  const nested = findNestedQuantifier(pattern);
  if (nested !== undefined) {
    throw new ConfigError(
      `regular expression has a nested quantifier near position ${nested} (such as (a+)+), ` +
        'which can take exponential time on hostile input; rewrite it without repeating a repeated group',
      { path },
    );
  }
  return re;
}

/** Index of the quantifier that repeats an already-quantified group, or undefined. */
export function findNestedQuantifier(source: string): number | undefined {
  // For each open group: does it contain a repeating quantifier (at any depth)?
  const stack: boolean[] = [];
  let closedQuantified = false;
  let afterGroup = false;
  // A closed group that contains a quantifier makes its enclosing group contain one too.
  const settle = (): void => {
    if (afterGroup && closedQuantified && stack.length > 0) stack[stack.length - 1] = true;
    afterGroup = false;
  };
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    const quant = repeatingQuantifierAt(source, i);
    if (quant > 0) {
      if (afterGroup && closedQuantified) return i;
      if (stack.length > 0) stack[stack.length - 1] = true;
      afterGroup = false;
      i += quant - 1;
      continue;
    }
    settle();
    if (c === '\\') {
      i++;
    } else if (c === '[') {
      // Skip a character class; `]` right after `[` or `[^` is literal.
      i++;
      if (source[i] === '^') i++;
      if (source[i] === ']') i++;
      while (i < source.length && source[i] !== ']') {
        if (source[i] === '\\') i++;
        i++;
      }
    } else if (c === '(') {
      stack.push(false);
    } else if (c === ')') {
      closedQuantified = stack.pop() ?? false;
      afterGroup = true;
    }
  }
  return undefined;
}

/**
 * Length of a repeating quantifier at `i` (`*`, `+`, `{n,}`, `{n,m}` with m > n, with an optional
 * lazy `?`), or 0. `?` and fixed counts `{n}` make no ambiguous choices and are not counted.
 */
function repeatingQuantifierAt(s: string, i: number): number {
  const c = s[i];
  if (c === '*' || c === '+') return s[i + 1] === '?' ? 2 : 1;
  if (c !== '{') return 0;
  const m = /^\{(\d+)(,(\d*))?\}\??/.exec(s.slice(i, i + 24));
  if (m === null || m[2] === undefined) return 0;
  if (m[3] === '' || Number(m[3]) > Number(m[1])) return m[0].length;
  return 0;
}
