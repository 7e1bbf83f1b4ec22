/**
 * The cursor over one piece of shell text, shared by the word reader and the parser. It hides
 * line continuations (`\<newline>`), which the shell removes before it even splits tokens — so
 * `r\<newline>m` is `rm` and `&\<newline>&` is `&&` — except where quoting keeps them (single
 * quotes, quoted here-documents, comments), which read the raw text instead.
 */
import type { HereDoc } from './ast.js';

/** Beyond this many nested constructs the rest of the text is given up on, to bound stack and time. */
export const MAX_NESTING = 100;
/** Enough to explain a result; hostile input must not grow the list without bound. */
const MAX_PROBLEMS = 32;

/** State shared by every reader of one parse: nested readers (backquotes, here-doc bodies) included. */
export class ParseContext {
  readonly problems: string[] = [];
  nesting: number;

  /**
   * `nesting` starts where the caller already is: a payload parsed while walking a deeply nested
   * script counts against the same limit, so shells inside shells cannot multiply the stack depth.
   */
  constructor(
    readonly interactive: boolean,
    nesting = 0,
  ) {
    this.nesting = nesting;
  }

  problem(message: string): void {
    if (this.problems.length < MAX_PROBLEMS && !this.problems.includes(message)) this.problems.push(message);
  }
}

const OPERATORS = [
  ';;&',
  '<<-',
  '<<<',
  '&>>',
  '&&',
  '||',
  ';;',
  ';&',
  '|&',
  '<<',
  '>>',
  '<&',
  '>&',
  '<>',
  '>|',
  '&>',
  ';',
  '&',
  '|',
  '(',
  ')',
  '<',
  '>',
  '\n',
] as const;

export type Operator = (typeof OPERATORS)[number];

/** Words that are reserved when they stand alone in command position. */
export const RESERVED_WORDS: ReadonlySet<string> = new Set([
  '!',
  '{',
  '}',
  'if',
  'then',
  'elif',
  'else',
  'fi',
  'for',
  'select',
  'in',
  'do',
  'done',
  'while',
  'until',
  'case',
  'esac',
  'function',
  'time',
  'coproc',
  '[[',
  ']]',
]);

const BARE_WORD = /[^\s;&|()<>'"\\`$]+/y;

export function isBlank(c: string): boolean {
  return c === ' ' || c === '\t';
}

/** Characters that end an unquoted word. */
export function isMeta(c: string): boolean {
  return (
    c === ' ' ||
    c === '\t' ||
    c === '\n' ||
    c === ';' ||
    c === '&' ||
    c === '|' ||
    c === '(' ||
    c === ')' ||
    c === '<' ||
    c === '>'
  );
}

export class Reader {
  pos = 0;
  /** Here-documents whose bodies start after the next newline token. */
  pending: HereDoc[] = [];
  /** Positions where `$((`/`((` turned out not to be arithmetic; retried as subshells directly. */
  readonly notArithmetic = new Set<number>();

  constructor(
    readonly src: string,
    readonly ctx: ParseContext,
  ) {}

  private skipContinuations(i: number): number {
    while (this.src.charCodeAt(i) === 92 && this.src.charCodeAt(i + 1) === 10) i += 2;
    return i;
  }

  /** The current character after line continuations, or `''` at the end. */
  cur(): string {
    this.pos = this.skipContinuations(this.pos);
    return this.src.charAt(this.pos);
  }

  /** Up to `n` characters from the cursor, continuations removed, without consuming them. */
  lookahead(n: number): string {
    let i = this.skipContinuations(this.pos);
    let out = '';
    while (out.length < n && i < this.src.length) {
      out += this.src.charAt(i);
      i = this.skipContinuations(i + 1);
    }
    return out;
  }

  advance(n = 1): void {
    for (let k = 0; k < n; k++) this.pos = this.skipContinuations(this.pos) + 1;
    if (this.pos > this.src.length) this.pos = this.src.length;
  }

  atEnd(): boolean {
    return this.cur() === '';
  }

  skipBlanks(): void {
    while (isBlank(this.cur())) this.pos++;
  }

  /** Blanks, then a comment if one starts here (the newline that ends it stays). */
  skipBlanksAndComment(): void {
    this.skipBlanks();
    if (this.cur() === '#') {
      const nl = this.src.indexOf('\n', this.pos);
      this.pos = nl === -1 ? this.src.length : nl;
    }
  }

  peekOperator(): Operator | undefined {
    const ahead = this.lookahead(3);
    // `<(` and `>(` start process substitutions, which are words.
    if (ahead.startsWith('<(') || ahead.startsWith('>(')) return undefined;
    for (const op of OPERATORS) if (ahead.startsWith(op)) return op;
    return undefined;
  }

  /** The reserved word at the cursor, if a whole unquoted word there is one. */
  peekReserved(): string | undefined {
    this.pos = this.skipContinuations(this.pos);
    BARE_WORD.lastIndex = this.pos;
    const m = BARE_WORD.exec(this.src);
    if (m === null) return undefined;
    const after = this.src.charAt(this.pos + m[0].length);
    if (after !== '' && !isMeta(after)) return undefined;
    return RESERVED_WORDS.has(m[0]) ? m[0] : undefined;
  }

  /** Consumes a newline token and then the bodies of the here-documents it releases. */
  newline(): void {
    this.advance();
    const docs = this.pending;
    this.pending = [];
    for (const doc of docs) this.readHereDocBody(doc);
  }

  private readHereDocBody(doc: HereDoc): void {
    let body = '';
    while (this.pos < this.src.length) {
      const nl = this.src.indexOf('\n', this.pos);
      const end = nl === -1 ? this.src.length : nl;
      let line = this.src.slice(this.pos, end);
      if (doc.stripTabs) line = line.replace(/^\t+/, '');
      this.pos = nl === -1 ? end : nl + 1;
      if (line === doc.delimiter) {
        doc.body = body;
        return;
      }
      body += `${line}\n`;
    }
    // Bash runs a here-document cut short by the end of input with what it has; so do we.
    doc.body = body;
  }

  /** False when one more nested construct would pass MAX_NESTING; the caller then gives up. */
  enter(): boolean {
    if (this.ctx.nesting >= MAX_NESTING) {
      this.ctx.problem(`nesting deeper than ${MAX_NESTING} levels`);
      this.pos = this.src.length;
      this.pending = [];
      return false;
    }
    this.ctx.nesting++;
    return true;
  }

  leave(): void {
    this.ctx.nesting--;
  }
}
