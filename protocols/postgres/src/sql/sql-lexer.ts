/**
 * A small lexer that runs before the real parser, for two answers that must be cheap:
 *
 * 1. The shape of the text: literals replaced by a class marker, comments by a space. Texts of the
 *    same shape parse to the same tree but for literal values, so their facts can be shared —
 *    pgbench's `… WHERE aid = 48213` then pays the parser once per shape, not once per value.
 *    Only what is lexed exactly like PostgreSQL's scanner (standard_conforming_strings on) is
 *    abstracted: `'…'` strings, `E'…'` strings without backslashes, dollar-quoted strings, integers
 *    of up to nine digits and plain decimals. Anything else this lexer is unsure about (unicode
 *    or bit strings, string continuation across lines, backslashes outside strings, unterminated
 *    quotes) makes the text shapeless, and it is always parsed. Everything that is not abstracted
 *    is kept verbatim in the key. The analyzer also checks each shape once against the real
 *    scanner before the shape serves a second text.
 * 2. An estimate of how deeply the parse tree nests, to refuse pathological statements before the
 *    WASM parser runs out of stack on them (see pg-parser.ts). Every token inside a bracket group
 *    between two separators (`,`, AND, OR, WHEN, THEN, ELSE) may add a level, each bracket group
 *    or CASE adds a few, and UNION/INTERSECT/EXCEPT chains add one per operator across commas.
 */

export type LiteralClass = 's' | 'e' | 'd' | 'i' | 'f';

export interface LiteralSpan {
  /** UTF-16 offsets; `end` is exclusive. */
  readonly start: number;
  readonly end: number;
  /** `'…'`, `E'…'`, dollar-quoted, integer, decimal. */
  readonly cls: LiteralClass;
}

export interface Span {
  readonly start: number;
  readonly end: number;
}

export interface LexedSql {
  /** Undefined when the text uses something that is not abstracted safely. */
  readonly shapeKey: string | undefined;
  readonly literals: readonly LiteralSpan[];
  readonly comments: readonly Span[];
  readonly nesting: number;
}

/** Levels a bracket group or CASE adds beyond its tokens (a call adds FuncCall, list, item…). */
const GROUP_COST = 5;
/** Marks a literal in a shape key; NUL never occurs in a query text (the analyzer refuses it). */
const MARK = '\u0000';

type Keyword = 'separator' | 'set-operation' | 'case' | 'end';

/** The few words the estimate cares about, by length (compared without allocating). */
const KEYWORDS: ReadonlyMap<number, readonly (readonly [string, Keyword])[]> = new Map([
  [2, [['or', 'separator']]],
  [
    3,
    [
      ['and', 'separator'],
      ['end', 'end'],
    ],
  ],
  [
    4,
    [
      ['when', 'separator'],
      ['then', 'separator'],
      ['else', 'separator'],
      ['case', 'case'],
    ],
  ],
  [5, [['union', 'set-operation']]],
  [6, [['except', 'set-operation']]],
  [9, [['intersect', 'set-operation']]],
] as const);

interface Group {
  readonly isCase: boolean;
  setOps: number;
  segment: number;
  segmentChild: number;
  best: number;
}

const newGroup = (isCase: boolean): Group => ({ isCase, setOps: 0, segment: 0, segmentChild: 0, best: 0 });

function endSegment(g: Group): void {
  g.best = Math.max(g.best, g.segment + g.segmentChild);
  g.segment = 0;
  g.segmentChild = 0;
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isIdentStart = (c: number): boolean =>
  (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c >= 0x80;
const isIdentChar = (c: number): boolean => isIdentStart(c) || isDigit(c) || c === 36;
const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13);
/** PostgreSQL's op_chars: ~ ! @ # ^ & | ` ? + - * / % < > = */
const isOpChar = (c: number): boolean =>
  c === 126 ||
  c === 33 ||
  c === 64 ||
  c === 35 ||
  c === 94 ||
  c === 38 ||
  c === 124 ||
  c === 96 ||
  c === 63 ||
  c === 43 ||
  c === 45 ||
  c === 42 ||
  c === 47 ||
  c === 37 ||
  c === 60 ||
  c === 62 ||
  c === 61;

export function lexSql(text: string): LexedSql {
  const n = text.length;
  let shapeable = true;
  const keyParts: string[] = [];
  let keyFrom = 0;
  const literals: LiteralSpan[] = [];
  const comments: Span[] = [];
  const groups: Group[] = [newGroup(false)];
  let nesting = 0;
  const top = (): Group => groups[groups.length - 1] as Group;

  const abstract = (start: number, end: number, cls: LiteralClass): void => {
    literals.push({ start, end, cls });
    keyParts.push(text.slice(keyFrom, start), MARK, cls);
    keyFrom = end;
  };
  const closeGroup = (): void => {
    const g = groups.pop() as Group;
    endSegment(g);
    const parent = top();
    parent.segmentChild = Math.max(parent.segmentChild, GROUP_COST + g.setOps + g.best);
  };
  const endStatement = (): void => {
    while (groups.length > 1) closeGroup();
    const g = top();
    endSegment(g);
    nesting = Math.max(nesting, g.setOps + g.best);
    groups[0] = newGroup(false);
  };

  /** End of a comment starting at i, or -1 if it does not start one. Unterminated runs to the end. */
  const commentEnd = (i: number): number => {
    const c = text.charCodeAt(i);
    const d = text.charCodeAt(i + 1);
    if (c === 45 && d === 45) {
      let j = i + 2;
      while (j < n && text.charCodeAt(j) !== 10 && text.charCodeAt(j) !== 13) j++;
      return j;
    }
    if (c !== 47 || d !== 42) return -1;
    let depth = 1;
    let j = i + 2;
    while (j < n && depth > 0) {
      const x = text.charCodeAt(j);
      const y = text.charCodeAt(j + 1);
      if (x === 47 && y === 42) {
        depth++;
        j += 2;
      } else if (x === 42 && y === 47) {
        depth--;
        j += 2;
      } else j++;
    }
    if (depth > 0) shapeable = false;
    return j;
  };

  /**
   * After a string literal, PostgreSQL joins a following literal separated by a newline into one
   * string; same line, it is a syntax error. Neither is worth abstracting.
   */
  const checkFollowingQuote = (from: number): void => {
    let j = from;
    while (j < n) {
      const c = text.charCodeAt(j);
      if (isSpace(c)) {
        j++;
        continue;
      }
      const end = commentEnd(j);
      if (end < 0) break;
      j = end;
    }
    if (text.charCodeAt(j) === 39) shapeable = false;
  };

  /** Index after the closing quote of a `'…'` string opened at i (doubled quotes inside), or -1. */
  const quotedEnd = (i: number, quote: string, backslashEscapes: boolean): number => {
    let j = i + 1;
    for (;;) {
      const q = text.indexOf(quote, j);
      if (q < 0) return -1;
      if (backslashEscapes) {
        const slash = text.indexOf('\\', j);
        if (slash >= 0 && slash < q) {
          j = slash + 2;
          continue;
        }
      }
      if (text.charAt(q + 1) === quote) {
        j = q + 2;
        continue;
      }
      return q + 1;
    }
  };

  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    const comment = commentEnd(i);
    if (comment >= 0) {
      comments.push({ start: i, end: comment });
      keyParts.push(text.slice(keyFrom, i), ' ');
      keyFrom = comment;
      i = comment;
      continue;
    }
    const g = top();
    if (c === 39) {
      const end = quotedEnd(i, "'", false);
      if (end < 0) {
        shapeable = false;
        break;
      }
      abstract(i, end, 's');
      checkFollowingQuote(end);
      g.segment++;
      i = end;
      continue;
    }
    if (c === 34) {
      const end = quotedEnd(i, '"', false);
      if (end < 0) {
        shapeable = false;
        break;
      }
      g.segment++;
      i = end;
      continue;
    }
    if (c === 36) {
      i = lexDollar(i);
      g.segment++;
      continue;
    }
    if (isDigit(c) || (c === 46 && isDigit(text.charCodeAt(i + 1)))) {
      i = lexNumber(i);
      g.segment++;
      continue;
    }
    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < n && isIdentChar(text.charCodeAt(j))) j++;
      const next = text.charCodeAt(j);
      if (j === i + 1 && (next === 39 || (next === 38 && (c === 85 || c === 117)))) {
        i = lexPrefixedString(i);
        g.segment++;
        continue;
      }
      switch (keywordAt(i, j - i)) {
        case 'separator':
          endSegment(g);
          break;
        case 'set-operation':
          g.setOps++;
          break;
        case 'case':
          groups.push(newGroup(true));
          break;
        case 'end':
          if (g.isCase) closeGroup();
          else g.segment++;
          break;
        default:
          g.segment++;
      }
      i = j;
      continue;
    }
    i++;
    if (c === 40 || c === 91) groups.push(newGroup(false));
    else if (c === 41 || c === 93) {
      if (groups.length > 1) closeGroup();
    } else if (c === 44) endSegment(g);
    else if (c === 59) endStatement();
    else if (isOpChar(c)) {
      // One operator token; PostgreSQL ends it where a comment starts.
      while (i < n && isOpChar(text.charCodeAt(i)) && commentEnd(i) < 0) i++;
      g.segment++;
    } else {
      // `\` outside a string: psql syntax or E-string confusion; not something to abstract.
      if (c === 92) shapeable = false;
      g.segment++;
    }
  }
  endStatement();
  keyParts.push(text.slice(keyFrom));
  return { shapeKey: shapeable ? keyParts.join('') : undefined, literals, comments, nesting };

  function keywordAt(start: number, length: number): Keyword | undefined {
    const candidates = KEYWORDS.get(length);
    if (candidates === undefined) return undefined;
    for (const [word, keyword] of candidates) {
      let k = 0;
      // ASCII letters only: `| 32` lower-cases them and leaves no other character equal.
      while (k < length && (text.charCodeAt(start + k) | 32) === word.charCodeAt(k)) k++;
      if (k === length) return keyword;
    }
    return undefined;
  }

  function lexDollar(start: number): number {
    const d = text.charCodeAt(start + 1);
    if (isDigit(d)) {
      // A parameter: $1.
      let j = start + 2;
      while (j < n && isDigit(text.charCodeAt(j))) j++;
      return j;
    }
    let j = start + 1;
    if (j < n && isIdentStart(text.charCodeAt(j))) {
      j++;
      while (j < n && (isIdentStart(text.charCodeAt(j)) || isDigit(text.charCodeAt(j)))) j++;
    }
    if (text.charCodeAt(j) !== 36) {
      shapeable = false;
      return start + 1;
    }
    const tag = text.slice(start, j + 1);
    const close = text.indexOf(tag, j + 1);
    if (close < 0) {
      shapeable = false;
      return n;
    }
    const end = close + tag.length;
    abstract(start, end, 'd');
    return end;
  }

  function lexNumber(start: number): number {
    let j = start;
    while (j < n && isDigit(text.charCodeAt(j))) j++;
    const digits = j - start;
    let decimal = false;
    if (digits > 0 && text.charCodeAt(j) === 46 && isDigit(text.charCodeAt(j + 1))) {
      decimal = true;
      j++;
      while (j < n && isDigit(text.charCodeAt(j))) j++;
    }
    const follower = text.charCodeAt(j);
    const prev = start > 0 ? text.charCodeAt(start - 1) : 32;
    const clean = digits > 0 && !isIdentChar(follower) && follower !== 46 && prev !== 46;
    if (clean && (decimal || digits <= 9)) {
      // Nine digits always fit an int4, so the scanner's ICONST/FCONST choice cannot change.
      abstract(start, j, decimal ? 'f' : 'i');
      return j;
    }
    // Exponents, hex/octal/binary, underscores, trailing junk, huge integers: verbatim.
    while (j < n) {
      const x = text.charCodeAt(j);
      if (x === 36 || !(isIdentChar(x) || x === 46)) break;
      j++;
    }
    return j;
  }

  /** E'…', B'…', X'…', N'…', U&'…', U&"…" starting at the prefix letter. */
  function lexPrefixedString(start: number): number {
    const p = text.charCodeAt(start);
    if (p === 85 || p === 117) {
      if (text.charCodeAt(start + 1) === 38) {
        // Unicode escapes, possibly with UESCAPE: lex as a plain quoted token, never abstract.
        shapeable = false;
        const quote = text.charAt(start + 2);
        if (quote !== "'" && quote !== '"') return start + 2;
        const end = quotedEnd(start + 2, quote, false);
        if (end < 0) return n;
        return end;
      }
    }
    const escapes = p === 69 || p === 101;
    const end = quotedEnd(start + 1, "'", escapes);
    if (end < 0) {
      shapeable = false;
      return n;
    }
    if (escapes && text.slice(start, end).indexOf('\\') < 0) {
      abstract(start, end, 'e');
      checkFollowingQuote(end);
    } else shapeable = false;
    return end;
  }
}
