/**
 * A recursive-descent parser for the POSIX shell grammar with the bash extensions people type
 * (`[[ ]]`, `(( ))`, `$'…'`, `<( )`, `&>`, `|&`, `function`, here-strings). It never throws: a
 * syntax error is recorded as a problem (which makes the result opaque) and parsing resumes at the
 * next token, so commands after the error are still found.
 */
import {
  type Command,
  EMPTY_SCRIPT,
  type HereDoc,
  type Pipeline,
  type Redirect,
  type Script,
  type Word,
} from './ast.js';
import {
  CLOSING_WORDS,
  parseArithmeticCommand,
  parseCompound,
  parseSubshell,
  type Stop,
  stopAt,
} from './compound-parser.js';
import { ParseContext, Reader } from './reader.js';
import { readDoubleQuoted, readWord, type SubstitutionParser } from './word-reader.js';
import { assignedName, isArrayAssignmentStart, plainText } from './words.js';

const TOP = stopAt([]);
const PAREN = stopAt([], [')']);

const REDIRECT_OPS: ReadonlySet<string> = new Set([
  '<',
  '>',
  '>>',
  '>|',
  '<>',
  '<&',
  '>&',
  '&>',
  '&>>',
  '<<',
  '<<-',
  '<<<',
]);

export function isRedirectOp(op: string | undefined): boolean {
  return op !== undefined && REDIRECT_OPS.has(op);
}

const FD_WORD = /^(?:[0-9]+|\{[A-Za-z_][A-Za-z0-9_]*\})$/;
const FD_BEFORE_REDIRECT = /[0-9]+(?=[<>])/y;

export class Parser implements SubstitutionParser {
  constructor(readonly reader: Reader) {}

  /** Parses a whole text. */
  static parse(text: string, ctx: ParseContext): Script {
    return new Parser(new Reader(text, ctx)).parseList(TOP);
  }

  problem(message: string): void {
    this.reader.ctx.problem(message);
  }

  private unexpected(token: string): void {
    this.problem(`syntax error near ${JSON.stringify(token === '\n' ? 'newline' : token)}`);
  }

  parseList(stop: Stop): Script {
    const r = this.reader;
    const pipelines: Pipeline[] = [];
    for (;;) {
      r.skipBlanksAndComment();
      const op = r.peekOperator();
      if (op === '\n') {
        this.newline();
        continue;
      }
      if (r.atEnd() || (op !== undefined && stop.ops.has(op))) break;
      if (op !== undefined && op !== '(' && !isRedirectOp(op)) {
        this.unexpected(op);
        r.advance(op.length);
        continue;
      }
      const reserved = r.peekReserved();
      if (reserved !== undefined && stop.words.has(reserved)) break;
      if (reserved !== undefined && CLOSING_WORDS.has(reserved)) {
        this.unexpected(reserved);
        r.pos += reserved.length;
        continue;
      }
      const before = r.pos;
      this.parseAndOr(pipelines);
      r.skipBlanksAndComment();
      const sep = r.peekOperator();
      if (sep === ';' || sep === '&') {
        r.advance();
      } else if (sep !== '\n' && !r.atEnd() && !(sep !== undefined && stop.ops.has(sep))) {
        const word = r.peekReserved();
        if (word === undefined || !stop.words.has(word)) this.unexpected(sep ?? r.cur());
      }
      if (r.pos === before) {
        // Nothing could be read here; skip a character rather than loop forever.
        this.unexpected(r.cur());
        r.advance();
      }
    }
    return { pipelines };
  }

  private parseAndOr(into: Pipeline[]): void {
    const r = this.reader;
    for (;;) {
      const pipeline = this.parsePipeline();
      if (pipeline !== undefined) into.push(pipeline);
      r.skipBlanksAndComment();
      const op = r.peekOperator();
      if (op !== '&&' && op !== '||') return;
      r.advance(2);
      this.skipLinebreaks();
    }
  }

  private parsePipeline(): Pipeline | undefined {
    const r = this.reader;
    for (;;) {
      r.skipBlanksAndComment();
      const word = r.peekReserved();
      if (word === '!') {
        r.pos += 1;
      } else if (word === 'time') {
        // Bash's `time` keyword times the pipeline; the program is what follows.
        r.pos += 4;
        r.skipBlanks();
        if (/^-p(?=[\s;&|()<>]|$)/.test(r.src.slice(r.pos, r.pos + 3))) r.pos += 2;
      } else {
        break;
      }
    }
    const commands: Command[] = [];
    for (;;) {
      const command = this.parseCommand();
      if (command === undefined) {
        this.problem('syntax error: a command is missing');
        break;
      }
      commands.push(command);
      r.skipBlanksAndComment();
      const op = r.peekOperator();
      if (op !== '|' && op !== '|&') break;
      r.advance(op.length);
      this.skipLinebreaks();
    }
    return commands.length === 0 ? undefined : { commands };
  }

  parseCommand(): Command | undefined {
    const r = this.reader;
    r.skipBlanksAndComment();
    const op = r.peekOperator();
    if (op === '(') {
      const arithmetic = r.lookahead(2) === '((' ? parseArithmeticCommand(this) : undefined;
      return this.withRedirects(arithmetic ?? parseSubshell(this));
    }
    if (op !== undefined && !isRedirectOp(op)) return undefined;
    const reserved = r.peekReserved();
    if (reserved !== undefined) {
      if (CLOSING_WORDS.has(reserved)) return undefined;
      const compound = parseCompound(this, reserved);
      if (compound !== undefined)
        return compound.type === 'compound' ? this.withRedirects(compound) : compound;
    }
    return this.parseSimple();
  }

  /** Redirections written after a compound command (`{ …; } >log`, `done <file`). */
  private withRedirects(command: Command): Command {
    if (command.type !== 'compound') return command;
    const r = this.reader;
    const redirects = [...command.redirects];
    for (;;) {
      r.skipBlanks();
      let fd: string | undefined;
      FD_BEFORE_REDIRECT.lastIndex = r.pos;
      const m = FD_BEFORE_REDIRECT.exec(r.src);
      if (m !== null) {
        fd = m[0];
        r.pos += fd.length;
      }
      const op = r.peekOperator();
      if (op === undefined || !isRedirectOp(op)) {
        if (fd !== undefined) r.pos -= fd.length;
        break;
      }
      this.parseRedirect(op, fd, redirects);
    }
    return redirects.length === command.redirects.length ? command : { ...command, redirects };
  }

  private parseSimple(): Command | undefined {
    const r = this.reader;
    const assignments: { name: string; values: Word[] }[] = [];
    const words: Word[] = [];
    const extraWords: Word[] = [];
    const redirects: Redirect[] = [];
    for (;;) {
      r.skipBlanksAndComment();
      const op = r.peekOperator();
      if (op !== undefined && isRedirectOp(op)) {
        this.parseRedirect(op, undefined, redirects);
        continue;
      }
      if (op === '(') {
        const name = words.length === 1 && assignments.length === 0 ? plainText(words[0] as Word) : undefined;
        if (name !== undefined && this.functionParens()) {
          this.skipLinebreaks();
          const body = this.parseCommand();
          if (body === undefined) this.problem(`syntax error: function ${name} has no body`);
          return { type: 'function', name, body: body ?? emptyCommand() };
        }
        if (words.length > 0 || assignments.length > 0 || redirects.length > 0) this.unexpected('(');
        break;
      }
      if (op !== undefined || r.atEnd()) break;
      const start = r.pos;
      const word = readWord(this);
      if (word === undefined || r.pos === start) break;
      const fd = plainText(word);
      const next = r.src.charAt(r.pos);
      if (fd !== undefined && FD_WORD.test(fd) && (next === '<' || next === '>')) {
        const redirect = r.peekOperator();
        if (redirect !== undefined && isRedirectOp(redirect)) {
          this.parseRedirect(redirect, fd, redirects);
          continue;
        }
      }
      const name = assignedName(word);
      const array = isArrayAssignmentStart(word) && r.cur() === '(' ? this.parseArrayLiteral() : undefined;
      if (words.length === 0 && name !== undefined) {
        assignments.push({ name, values: [word, ...(array ?? [])] });
        continue;
      }
      words.push(word);
      if (array !== undefined) extraWords.push(...array);
    }
    if (assignments.length === 0 && words.length === 0 && redirects.length === 0) return undefined;
    return { type: 'simple', assignments, words, extraWords, redirects };
  }

  /** After a name: `(` blanks `)` makes a function definition; otherwise nothing is consumed. */
  private functionParens(): boolean {
    const r = this.reader;
    const saved = r.pos;
    r.advance();
    r.skipBlanks();
    if (r.cur() === ')') {
      r.advance();
      return true;
    }
    r.pos = saved;
    return false;
  }

  /** `(a b c)` after `name=`; the elements are words like any other. */
  private parseArrayLiteral(): Word[] {
    const r = this.reader;
    const values: Word[] = [];
    r.advance();
    for (;;) {
      this.skipLinebreaks();
      const c = r.cur();
      if (c === ')') {
        r.advance();
        break;
      }
      if (c === '') {
        this.problem('unterminated array literal');
        break;
      }
      const word = readWord(this);
      if (word === undefined) {
        this.unexpected(c);
        r.advance();
      } else {
        values.push(word);
      }
    }
    return values;
  }

  private parseRedirect(op: string, fd: string | undefined, into: Redirect[]): void {
    const r = this.reader;
    r.advance(op.length);
    r.skipBlanks();
    const word = readWord(this);
    if (word === undefined) {
      this.problem(`syntax error: ${op} has no target`);
      return;
    }
    if (op === '<<' || op === '<<-') {
      const doc: HereDoc = {
        type: 'here-doc',
        fd,
        delimiter: word.parts.map((p) => p.text).join(''),
        stripTabs: op === '<<-',
        quoted: word.parts.some((p) => p.type === 'literal' && p.quoted),
        body: '',
        bodyParts: [],
      };
      r.pending.push(doc);
      into.push(doc);
    } else if (op === '<<<') {
      into.push({ type: 'here-string', fd, word });
    } else {
      into.push({ type: 'file', op, fd, target: word });
    }
  }

  /** Consumes a newline and reads the here-document bodies waiting for it. */
  newline(): void {
    const docs = this.reader.pending;
    this.reader.newline();
    for (const doc of docs) if (!doc.quoted) this.expandHereDoc(doc);
  }

  private expandHereDoc(doc: HereDoc): void {
    const sub = new Parser(new Reader(doc.body, this.reader.ctx));
    const parts: Parameters<typeof readDoubleQuoted>[1] = [];
    readDoubleQuoted(sub, parts, '');
    doc.bodyParts = parts;
    doc.body = parts.map((p) => p.text).join('');
  }

  skipLinebreaks(): void {
    const r = this.reader;
    for (;;) {
      r.skipBlanksAndComment();
      if (r.peekOperator() !== '\n') return;
      this.newline();
    }
  }

  /** Consumes the reserved word `word` at the cursor, or records that it is missing. */
  expectWord(word: string, construct: string): boolean {
    this.reader.skipBlanksAndComment();
    if (this.reader.peekReserved() === word) {
      this.reader.pos += word.length;
      return true;
    }
    this.problem(`syntax error: ${construct} without ${word}`);
    return false;
  }

  parseUntilParen(what: string): Script {
    const r = this.reader;
    if (!r.enter()) return EMPTY_SCRIPT;
    try {
      const script = this.parseList(PAREN);
      r.skipBlanksAndComment();
      if (r.cur() === ')') r.advance();
      else this.problem(`unterminated ${what}`);
      return script;
    } finally {
      r.leave();
    }
  }

  parseNested(text: string): Script {
    const r = this.reader;
    if (!r.enter()) return EMPTY_SCRIPT;
    try {
      return new Parser(new Reader(text, r.ctx)).parseList(TOP);
    } finally {
      r.leave();
    }
  }
}

function emptyCommand(): Command {
  return { type: 'simple', assignments: [], words: [], extraWords: [], redirects: [] };
}

export { ParseContext };
