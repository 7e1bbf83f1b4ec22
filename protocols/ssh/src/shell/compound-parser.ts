/**
 * Compound commands: `( )`, `{ }`, `if`, `while`/`until`, `for`/`select`, `case`, `function`,
 * `[[ ]]`, `(( ))` and `coproc`. Keywords are structure, not programs; what matters is every list
 * inside them (all of which may run) and every word they expand (which may hold substitutions).
 */
import type { Command, CompoundKind, Script, Word, WordPart } from './ast.js';
import type { Parser } from './parser.js';
import { readArithmeticBody, readWord, restore, snapshot } from './word-reader.js';
import { plainText } from './words.js';

/** Where a list ends: reserved words (`fi`, `done`, `}` …) and operators (`)`, `;;` …). */
export interface Stop {
  readonly words: ReadonlySet<string>;
  readonly ops: ReadonlySet<string>;
}

export function stopAt(words: readonly string[], ops: readonly string[] = []): Stop {
  return { words: new Set(words), ops: new Set(ops) };
}

/** Reserved words that close a construct; met in command position outside one, they are errors. */
export const CLOSING_WORDS: ReadonlySet<string> = new Set([
  'then',
  'elif',
  'else',
  'fi',
  'do',
  'done',
  'esac',
  '}',
  ']]',
]);

const UNTIL_THEN = stopAt(['then']);
const UNTIL_ELSE = stopAt(['elif', 'else', 'fi']);
const UNTIL_FI = stopAt(['fi']);
const UNTIL_DO = stopAt(['do']);
const UNTIL_DONE = stopAt(['done']);
const UNTIL_BRACE = stopAt(['}']);
const UNTIL_PAREN = stopAt([], [')']);
const CASE_BODY = stopAt(['esac'], [';;', ';&', ';;&']);

function compound(
  kind: CompoundKind,
  bodies: Script[],
  words: Word[] = [],
  arithmetic: WordPart[] = [],
): Command {
  return { type: 'compound', kind, words, arithmetic, bodies, redirects: [] };
}

/** `(( … ))` at the cursor, or undefined (cursor unchanged) when it is two nested subshells. */
export function parseArithmeticCommand(p: Parser): Command | undefined {
  const r = p.reader;
  const start = r.pos;
  if (r.notArithmetic.has(start)) return undefined;
  const saved = snapshot(r);
  r.advance(2);
  const parts = readArithmeticBody(p, '))');
  if (parts === undefined) {
    restore(r, saved);
    r.notArithmetic.add(start);
    return undefined;
  }
  return compound('arithmetic', [], [], parts);
}

/** `( … )`, the cursor on the `(`. */
export function parseSubshell(p: Parser): Command {
  const r = p.reader;
  if (!r.enter()) return compound('subshell', []);
  try {
    r.advance();
    const body = p.parseList(UNTIL_PAREN);
    r.skipBlanksAndComment();
    if (r.cur() === ')') r.advance();
    else p.problem('unterminated subshell');
    return compound('subshell', [body]);
  } finally {
    r.leave();
  }
}

/** The compound command that `keyword` starts, or undefined when the word starts none. */
export function parseCompound(p: Parser, keyword: string): Command | undefined {
  switch (keyword) {
    case '{':
    case 'if':
    case 'while':
    case 'until':
    case 'for':
    case 'select':
    case 'case':
    case 'function':
    case '[[':
    case 'coproc':
      break;
    default:
      return undefined;
  }
  const r = p.reader;
  if (!r.enter()) return compound('group', []);
  try {
    r.pos += keyword.length;
    switch (keyword) {
      case '{': {
        const body = p.parseList(UNTIL_BRACE);
        p.expectWord('}', '{');
        return compound('group', [body]);
      }
      case 'if':
        return parseIf(p);
      case 'while':
      case 'until': {
        const condition = p.parseList(UNTIL_DO);
        p.expectWord('do', keyword);
        const body = p.parseList(UNTIL_DONE);
        p.expectWord('done', keyword);
        return compound(keyword, [condition, body]);
      }
      case 'for':
      case 'select':
        return parseFor(p, keyword);
      case 'case':
        return parseCase(p);
      case 'function':
        return parseFunction(p);
      case '[[':
        return parseConditional(p);
      default:
        return parseCoproc(p);
    }
  } finally {
    r.leave();
  }
}

function parseIf(p: Parser): Command {
  const bodies: Script[] = [];
  for (;;) {
    bodies.push(p.parseList(UNTIL_THEN));
    p.expectWord('then', 'if');
    bodies.push(p.parseList(UNTIL_ELSE));
    p.reader.skipBlanksAndComment();
    const next = p.reader.peekReserved();
    if (next === 'elif') {
      p.reader.pos += 4;
      continue;
    }
    if (next === 'else') {
      p.reader.pos += 4;
      bodies.push(p.parseList(UNTIL_FI));
    }
    p.expectWord('fi', 'if');
    return compound('if', bodies);
  }
}

/** The `do … done` of a loop; bash also accepts a `{ … }` group there. */
function parseLoopBody(p: Parser, construct: string): Script {
  p.skipLinebreaks();
  if (p.reader.peekReserved() === '{') {
    p.reader.pos += 1;
    const body = p.parseList(UNTIL_BRACE);
    p.expectWord('}', construct);
    return body;
  }
  if (!p.expectWord('do', construct)) return { pipelines: [] };
  const body = p.parseList(UNTIL_DONE);
  p.expectWord('done', construct);
  return body;
}

function parseFor(p: Parser, keyword: 'for' | 'select'): Command {
  const r = p.reader;
  r.skipBlanks();
  if (r.lookahead(2) === '((') {
    r.advance(2);
    const parts = readArithmeticBody(p, '))');
    if (parts === undefined) p.problem('unterminated for ((…))');
    r.skipBlanks();
    if (r.peekOperator() === ';') r.advance();
    return compound(keyword, [parseLoopBody(p, keyword)], [], parts ?? []);
  }
  const words: Word[] = [];
  if (readWord(p) === undefined) p.problem(`syntax error: ${keyword} without a variable name`);
  p.skipLinebreaks();
  if (r.peekReserved() === 'in') {
    r.pos += 2;
    for (;;) {
      r.skipBlanksAndComment();
      const op = r.peekOperator();
      if (op === ';') {
        r.advance();
        break;
      }
      if (op !== undefined || r.atEnd()) break;
      const word = readWord(p);
      if (word === undefined) break;
      words.push(word);
    }
  } else if (r.peekOperator() === ';') {
    r.advance();
  }
  return compound(keyword, [parseLoopBody(p, keyword)], words);
}

function parseCase(p: Parser): Command {
  const r = p.reader;
  r.skipBlanks();
  const words: Word[] = [];
  const bodies: Script[] = [];
  const subject = readWord(p);
  if (subject === undefined) p.problem('syntax error: case without a word');
  else words.push(subject);
  p.skipLinebreaks();
  if (!p.expectWord('in', 'case')) return compound('case', bodies, words);
  for (;;) {
    p.skipLinebreaks();
    if (r.peekReserved() === 'esac') {
      r.pos += 4;
      break;
    }
    if (r.atEnd()) {
      p.problem('syntax error: case without esac');
      break;
    }
    if (r.peekOperator() === '(') r.advance();
    let closed = false;
    for (;;) {
      r.skipBlanks();
      const pattern = readWord(p);
      if (pattern !== undefined) words.push(pattern);
      r.skipBlanks();
      const op = r.peekOperator();
      if (op === '|') {
        r.advance();
        continue;
      }
      if (op === ')') {
        r.advance();
        closed = true;
      }
      break;
    }
    if (!closed) {
      p.problem('syntax error in a case pattern');
      break;
    }
    bodies.push(p.parseList(CASE_BODY));
    r.skipBlanksAndComment();
    const end = r.peekOperator();
    if (end === ';;' || end === ';&' || end === ';;&') r.advance(end.length);
  }
  return compound('case', bodies, words);
}

function parseFunction(p: Parser): Command {
  const r = p.reader;
  r.skipBlanks();
  const nameWord = readWord(p);
  const name = nameWord === undefined ? '' : (plainText(nameWord) ?? '');
  if (name === '') p.problem('syntax error: function without a plain name');
  r.skipBlanks();
  if (r.peekOperator() === '(') {
    r.advance();
    r.skipBlanks();
    if (r.cur() === ')') r.advance();
    else p.problem('syntax error: function name followed by (');
  }
  p.skipLinebreaks();
  const body = p.parseCommand();
  if (body === undefined) p.problem(`syntax error: function ${name} has no body`);
  return { type: 'function', name, body: body ?? compound('group', []) };
}

/** `[[ … ]]`: operators inside are tests, not redirections or pipes; words still expand. */
function parseConditional(p: Parser): Command {
  const r = p.reader;
  const words: Word[] = [];
  let regexNext = false;
  for (;;) {
    p.skipLinebreaks();
    if (r.peekReserved() === ']]') {
      r.pos += 2;
      break;
    }
    if (r.atEnd()) {
      p.problem('syntax error: [[ without ]]');
      break;
    }
    const op = r.peekOperator();
    if (op === '&&' || op === '||' || op === '(' || op === ')' || op === '<' || op === '>') {
      r.advance(op.length);
      regexNext = false;
      continue;
    }
    if (op !== undefined) {
      p.problem(`syntax error near ${JSON.stringify(op)} in [[ ]]`);
      break;
    }
    const word = readWord(p, { regex: regexNext });
    if (word === undefined) {
      r.advance();
      continue;
    }
    words.push(word);
    regexNext = plainText(word) === '=~';
  }
  return compound('conditional', [], words);
}

/** `coproc [NAME] command`: the name is only allowed before a compound command. */
function parseCoproc(p: Parser): Command {
  const r = p.reader;
  r.skipBlanks();
  const saved = r.pos;
  if (r.peekReserved() === undefined && r.peekOperator() === undefined && readWord(p) !== undefined) {
    r.skipBlanks();
    if (r.peekReserved() !== '{' && r.peekOperator() !== '(') r.pos = saved;
  }
  const command = p.parseCommand();
  if (command === undefined) p.problem('syntax error: coproc without a command');
  return compound('coproc', command === undefined ? [] : [{ pipelines: [{ commands: [command] }] }]);
}
