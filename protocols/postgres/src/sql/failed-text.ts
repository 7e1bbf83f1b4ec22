/**
 * A text the parser rejected has no parse tree to find secrets in, yet it is still logged: a
 * mistyped `CREATE ROLE app PASSWORD 'hunter2' LOGN` must not put the password in the session log,
 * nor in the error message (`unterminated quoted string at or near "'hunter2"`). When such a text
 * mentions anything that may carry a credential, every string literal in it is masked, as well as
 * the token PostgreSQL quotes in its message.
 */

const MAY_HOLD_SECRET = /pass|secret|token|api_?key|connection|conninfo|dblink|mapping/i;

export const MASKED_LITERAL = "'[REDACTED]'";

export interface MaskedFailure {
  readonly text: string;
  readonly error: string;
  /** The text may have held a secret; the answer must not be cached. */
  readonly masked: boolean;
}

export function maskFailedText(text: string, error: string): MaskedFailure {
  if (!MAY_HOLD_SECRET.test(text)) return { text, error, masked: false };
  return {
    text: maskStringLiterals(text),
    error: error.replace(/ at or near ".*"/s, ' at or near [REDACTED]'),
    masked: true,
  };
}

/**
 * Replaces every string literal (`'…'`, `E'…'`, `$tag$…$tag$`) by `'[REDACTED]'`, leaving comments
 * and quoted names alone. An unterminated literal masks the rest of the text.
 */
export function maskStringLiterals(text: string): string {
  let out = '';
  let from = 0;
  let i = 0;
  const n = text.length;
  const mask = (start: number, end: number): void => {
    out += text.slice(from, start) + MASKED_LITERAL;
    from = end;
  };
  while (i < n) {
    const c = text[i];
    const next = text[i + 1];
    if (c === '-' && next === '-') {
      const eol = text.slice(i).search(/[\n\r]/);
      i = eol < 0 ? n : i + eol;
    } else if (c === '/' && next === '*') {
      const close = text.indexOf('*/', i + 2);
      i = close < 0 ? n : close + 2;
    } else if (c === '"') {
      const close = text.indexOf('"', i + 1);
      i = close < 0 ? n : close + 1;
    } else if (c === "'") {
      const escapes = /[eE]/.test(text[i - 1] ?? '') && !/[\w$]/.test(text[i - 2] ?? '');
      const end = stringEnd(text, i, escapes);
      mask(i, end);
      i = end;
    } else if (c === '$' && !/[\w$]/.test(text[i - 1] ?? '')) {
      const tag = /^\$(?:[A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*)?\$/.exec(text.slice(i, i + 64));
      if (tag === null) {
        i++;
        continue;
      }
      const close = text.indexOf(tag[0], i + tag[0].length);
      const end = close < 0 ? n : close + tag[0].length;
      mask(i, end);
      i = end;
    } else {
      i++;
    }
  }
  return out + text.slice(from);
}

function stringEnd(text: string, open: number, escapes: boolean): number {
  let j = open + 1;
  while (j < text.length) {
    const c = text[j];
    if (escapes && c === '\\') {
      j += 2;
    } else if (c === "'") {
      if (text[j + 1] !== "'") return j + 1;
      j += 2;
    } else {
      j++;
    }
  }
  return text.length;
}
