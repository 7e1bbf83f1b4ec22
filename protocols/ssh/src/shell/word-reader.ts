/**
 * Reads one word: quoting (`'…'`, `"…"`, `$'…'`, `$"…"`, backslashes) is removed the way the shell
 * removes it, so `r''m`, `\rm`, `"rm"` and `$'\x72m'` all read as `rm`. Expansions cannot be
 * evaluated, so they keep their source text; command and process substitutions are parsed, since
 * the commands inside them run.
 */
import { decodeAnsiC } from './ansi-c.js';
import type { Script, Word, WordPart } from './ast.js';
import { isBlank, isMeta, type Reader } from './reader.js';

/** What the word reader needs from the parser: substitutions contain whole scripts. */
export interface SubstitutionParser {
  readonly reader: Reader;
  /** Parses a script up to the `)` that closes a `$(` or `<(` and consumes that `)`. */
  parseUntilParen(what: string): Script;
  /** Parses other text (a backquoted command's) in the same context. */
  parseNested(text: string): Script;
}

const PARAM_NAME = /[#!]?([A-Za-z_][A-Za-z0-9_]*|[0-9]+)|([@*#?$!0-9-])/y;
const SHORT_PARAM = /[A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-]/y;
const EXTGLOB_PREFIX = /[?*+@!]$/;

/** Reads the rest of a single-quoted string, the opening quote already consumed. */
function readSingleQuoted(r: Reader): string {
  const end = r.src.indexOf("'", r.pos);
  if (end === -1) {
    r.ctx.problem('unterminated single quote');
    const text = r.src.slice(r.pos);
    r.pos = r.src.length;
    return text;
  }
  const text = r.src.slice(r.pos, end);
  r.pos = end + 1;
  return text;
}

/** `$'…'`, the `$'` already consumed: a backslash protects the next character, quote included. */
function readAnsiC(r: Reader): string {
  let i = r.pos;
  while (i < r.src.length && r.src.charAt(i) !== "'") i += r.src.charAt(i) === '\\' ? 2 : 1;
  if (i >= r.src.length) {
    r.ctx.problem("unterminated $'…' quote");
    const body = r.src.slice(r.pos);
    r.pos = r.src.length;
    return decodeAnsiC(body);
  }
  const body = r.src.slice(r.pos, i);
  r.pos = i + 1;
  return decodeAnsiC(body);
}

function checkHistory(r: Reader): void {
  // Interactive bash replaces `!!`, `!rm`, `!-2` with earlier command lines we cannot see.
  if (!r.ctx.interactive) return;
  const next = r.src.charAt(r.pos + 1);
  if (next !== '' && !isBlank(next) && next !== '\n' && next !== '=' && next !== '(' && next !== '"') {
    r.ctx.problem('history expansion (!) in an interactive shell');
  }
}

export interface Snapshot {
  readonly pos: number;
  readonly pending: Reader['pending'];
  readonly problems: number;
  readonly nesting: number;
}

export function snapshot(r: Reader): Snapshot {
  return { pos: r.pos, pending: [...r.pending], problems: r.ctx.problems.length, nesting: r.ctx.nesting };
}

export function restore(r: Reader, s: Snapshot): void {
  r.pos = s.pos;
  r.pending = [...s.pending];
  r.ctx.problems.length = s.problems;
  r.ctx.nesting = s.nesting;
}

/**
 * The inside of `((…))` or `$[…]`, the opening already consumed, through the closing `))`/`]`.
 * Undefined when the text is not arithmetic after all (`((cmd) )` is two subshells).
 */
export function readArithmeticBody(p: SubstitutionParser, closer: '))' | ']'): WordPart[] | undefined {
  const r = p.reader;
  const parts: WordPart[] = [];
  if (!r.enter()) return parts;
  try {
    let depth = 0;
    for (;;) {
      const c = r.cur();
      if (c === '') return undefined;
      if (c === '(' || (closer === ']' && c === '[')) {
        depth++;
        r.advance();
      } else if (c === ')' || (closer === ']' && c === ']')) {
        if (depth > 0) {
          depth--;
          r.advance();
        } else if (closer === ']') {
          r.advance();
          return parts;
        } else if (r.lookahead(2) === '))') {
          r.advance(2);
          return parts;
        } else {
          return undefined;
        }
      } else if (c === '$') {
        readDollar(p, true, parts);
      } else if (c === '`') {
        parts.push(readBackquote(p, false));
      } else if (c === '"') {
        r.advance();
        readDoubleQuoted(p, parts, '"');
      } else if (c === "'") {
        r.advance();
        readSingleQuoted(r);
      } else {
        r.advance(c === '\\' ? 2 : 1);
      }
    }
  } finally {
    r.leave();
  }
}

/** `$((…))` at the cursor, or undefined (cursor unchanged) when it is `$( (…) )` instead. */
function readArithmeticExpansion(p: SubstitutionParser, quoted: boolean): WordPart | undefined {
  const r = p.reader;
  const start = r.pos;
  if (r.notArithmetic.has(start)) return undefined;
  const saved = snapshot(r);
  r.advance(3);
  const inner = readArithmeticBody(p, '))');
  if (inner === undefined) {
    // Remembered so that nested attempts are not retried once per enclosing attempt.
    restore(r, saved);
    r.notArithmetic.add(start);
    return undefined;
  }
  return { type: 'arithmetic', text: r.src.slice(start, r.pos), quoted, inner };
}

function readParameter(p: SubstitutionParser, quoted: boolean, start: number): WordPart {
  const r = p.reader;
  r.advance(2);
  PARAM_NAME.lastIndex = r.pos;
  const m = PARAM_NAME.exec(r.src);
  const name = m === null ? '' : (m[1] ?? m[2] ?? '');
  if (name === 'IFS') r.ctx.problem('uses $IFS, which changes how words split');
  const inner: WordPart[] = [];
  if (!r.enter()) return { type: 'parameter', text: r.src.slice(start), quoted, name, inner };
  try {
    for (;;) {
      const c = r.cur();
      if (c === '') {
        r.ctx.problem('unterminated parameter expansion');
        break;
      }
      if (c === '}') {
        r.advance();
        break;
      }
      if (c === '\\') r.advance(2);
      else if (c === "'" && !quoted) {
        r.advance();
        readSingleQuoted(r);
      } else if (c === '"') {
        r.advance();
        readDoubleQuoted(p, inner, '"');
      } else if (c === '$') readDollar(p, quoted, inner);
      else if (c === '`') inner.push(readBackquote(p, quoted));
      else r.advance();
    }
  } finally {
    r.leave();
  }
  return { type: 'parameter', text: r.src.slice(start, r.pos), quoted, name, inner };
}

/** Reads what starts with `$` at the cursor and appends it to `parts`. */
export function readDollar(p: SubstitutionParser, quoted: boolean, parts: WordPart[]): void {
  const r = p.reader;
  const start = r.pos;
  const ahead = r.lookahead(3);
  const next = ahead.charAt(1);
  if (next === "'" && !quoted) {
    r.advance(2);
    parts.push({ type: 'literal', text: readAnsiC(r), quoted: true });
    return;
  }
  if (next === '"' && !quoted) {
    // `$"…"` is a translatable string; without a message catalog it is a plain double-quoted one.
    r.advance(2);
    const before = parts.length;
    readDoubleQuoted(p, parts, '"');
    if (parts.length === before) parts.push({ type: 'literal', text: '', quoted: true });
    return;
  }
  if (next === '(') {
    if (ahead === '$((') {
      const arith = readArithmeticExpansion(p, quoted);
      if (arith !== undefined) {
        parts.push(arith);
        return;
      }
    }
    r.advance(2);
    const script = p.parseUntilParen('command substitution');
    parts.push({ type: 'command-substitution', text: r.src.slice(start, r.pos), quoted, script });
    return;
  }
  if (next === '[') {
    r.advance(2);
    const inner = readArithmeticBody(p, ']') ?? [];
    parts.push({ type: 'arithmetic', text: r.src.slice(start, r.pos), quoted, inner });
    return;
  }
  if (next === '{') {
    parts.push(readParameter(p, quoted, start));
    return;
  }
  r.advance();
  SHORT_PARAM.lastIndex = r.pos;
  const m = SHORT_PARAM.exec(r.src);
  if (m === null) {
    parts.push({ type: 'literal', text: '$', quoted });
    return;
  }
  r.pos += m[0].length;
  if (m[0] === 'IFS') r.ctx.problem('uses $IFS, which changes how words split');
  parts.push({ type: 'parameter', text: r.src.slice(start, r.pos), quoted, name: m[0], inner: [] });
}

/** A backquoted command at the cursor: its text loses one level of backslashes, then is parsed. */
export function readBackquote(p: SubstitutionParser, inDouble: boolean): WordPart {
  const r = p.reader;
  const start = r.pos;
  r.pos++;
  let text = '';
  for (;;) {
    const c = r.src.charAt(r.pos);
    if (c === '') {
      r.ctx.problem('unterminated backquote');
      break;
    }
    if (c === '`') {
      r.pos++;
      break;
    }
    if (c === '\\') {
      const n = r.src.charAt(r.pos + 1);
      if (n === '$' || n === '`' || n === '\\' || (inDouble && n === '"')) {
        text += n;
        r.pos += 2;
        continue;
      }
    }
    text += c;
    r.pos++;
  }
  const script = p.parseNested(text);
  return { type: 'command-substitution', text: r.src.slice(start, r.pos), quoted: inDouble, script };
}

/**
 * Double-quoted text, the opening quote already consumed, through `terminator`; with `''` it reads
 * to the end (an unquoted here-document body, where `"` is an ordinary character).
 */
export function readDoubleQuoted(p: SubstitutionParser, parts: WordPart[], terminator: '"' | ''): void {
  const r = p.reader;
  const first = parts.length;
  let lit = '';
  const flush = (): void => {
    if (lit !== '') parts.push({ type: 'literal', text: lit, quoted: true });
    lit = '';
  };
  for (;;) {
    const c = r.cur();
    if (c === '') {
      if (terminator === '"') r.ctx.problem('unterminated double quote');
      break;
    }
    if (c === terminator) {
      r.advance();
      break;
    }
    if (c === '\\') {
      const n = r.src.charAt(r.pos + 1);
      if (n === '$' || n === '`' || n === '\\' || (n === '"' && terminator === '"')) {
        lit += n;
        r.pos += 2;
      } else {
        lit += '\\';
        r.pos++;
      }
    } else if (c === '$') {
      flush();
      readDollar(p, true, parts);
    } else if (c === '`') {
      flush();
      parts.push(readBackquote(p, true));
    } else {
      if (c === '!' && terminator === '"') checkHistory(r);
      lit += c;
      r.pos++;
    }
  }
  flush();
  if (parts.length === first) parts.push({ type: 'literal', text: '', quoted: true });
}

/** An extended glob group such as `@(a|b)`, read as literal pattern text. */
function readGlobGroup(r: Reader): string {
  const start = r.pos;
  let depth = 0;
  for (;;) {
    const c = r.cur();
    if (c === '') break;
    r.advance();
    if (c === '(') depth++;
    else if (c === ')' && --depth === 0) break;
    else if (c === '\\') r.advance();
    else if (c === "'") readSingleQuoted(r);
  }
  return r.src.slice(start, r.pos);
}

export interface WordOptions {
  /** The right side of `=~` in `[[ … ]]`: parentheses, `|`, `<`, `>` and bracketed blanks belong to it. */
  readonly regex?: boolean;
}

/** Reads an unquoted word at the cursor; undefined when none starts here. */
export function readWord(p: SubstitutionParser, options: WordOptions = {}): Word | undefined {
  const r = p.reader;
  const parts: WordPart[] = [];
  let lit = '';
  let depth = 0;
  const flush = (): void => {
    if (lit !== '') parts.push({ type: 'literal', text: lit, quoted: false });
    lit = '';
  };
  for (;;) {
    const c = r.cur();
    if (c === '') break;
    if ((c === '<' || c === '>') && r.lookahead(2).charAt(1) === '(') {
      flush();
      const start = r.pos;
      r.advance(2);
      const script = p.parseUntilParen('process substitution');
      parts.push({ type: 'process-substitution', text: r.src.slice(start, r.pos), script });
      continue;
    }
    if (options.regex === true && (c === '(' || (depth > 0 && (c === ')' || isMeta(c))) || c === '|')) {
      if (c === '(') depth++;
      if (c === ')') depth--;
      lit += c;
      r.advance();
      continue;
    }
    if (c === '(' && EXTGLOB_PREFIX.test(lit)) {
      lit += readGlobGroup(r);
      continue;
    }
    if (isMeta(c)) break;
    if (c === "'") {
      flush();
      r.advance();
      parts.push({ type: 'literal', text: readSingleQuoted(r), quoted: true });
    } else if (c === '"') {
      flush();
      r.advance();
      readDoubleQuoted(p, parts, '"');
    } else if (c === '\\') {
      // Continuations are gone already, so this backslash quotes a real character.
      const n = r.src.charAt(r.pos + 1);
      if (n === '') {
        lit += '\\';
        r.pos++;
      } else {
        flush();
        const cp = r.src.codePointAt(r.pos + 1) as number;
        const ch = String.fromCodePoint(cp);
        parts.push({ type: 'literal', text: ch, quoted: true });
        r.pos += 1 + ch.length;
      }
    } else if (c === '$') {
      flush();
      readDollar(p, false, parts);
    } else if (c === '`') {
      flush();
      parts.push(readBackquote(p, false));
    } else {
      if (c === '!') checkHistory(r);
      lit += c;
      r.pos++;
    }
  }
  flush();
  return parts.length === 0 ? undefined : { parts };
}
