/** Questions asked about a parsed word: its text for argv, and whether the shell could change it. */
import type { Script, Word, WordPart } from './ast.js';

/** The argv text of a word: quotes removed, expansions kept as written (`$HOME`, `$(date)`). */
export function wordValue(word: Word): string {
  let out = '';
  for (const part of word.parts) out += part.text;
  return out;
}

/** True when the shell would put something we cannot see into the word. */
export function hasExpansion(word: Word): boolean {
  return word.parts.some((p) => p.type !== 'literal');
}

function isUnquotedExpansion(p: WordPart): boolean {
  return p.type === 'process-substitution' || (p.type !== 'literal' && !p.quoted);
}

/** The word with everything quoted or expanded masked, so that only characters the shell would
 * still interpret (glob and brace syntax) remain visible. */
function unquotedShape(word: Word): string {
  let out = '';
  for (const p of word.parts) {
    out += p.type === 'literal' && !p.quoted ? p.text : 'x'.repeat(Math.max(1, p.text.length));
  }
  return out;
}

const GLOB = /[*?]|\[.*\]/;
const BRACE = /\{[^{}]*(?:,|\.\.)[^{}]*\}/;

/**
 * Why the program a command-name word runs cannot be known from the text, or undefined when it
 * can. A quoted expansion in a leading directory (`"$HOME/bin/tool"`) still names the program
 * `tool`: policy compares basenames.
 */
export function commandNameProblem(word: Word): string | undefined {
  const text = wordValue(word);
  if (word.parts.some(isUnquotedExpansion)) return `the command name ${text} comes from an expansion`;
  const lastSlash = word.parts.findLastIndex((p) => p.type === 'literal' && p.text.includes('/'));
  if (word.parts.some((p, i) => p.type !== 'literal' && i >= lastSlash)) {
    return `the command name ${text} comes from an expansion`;
  }
  const shape = unquotedShape(word);
  if (GLOB.test(shape)) return `the command name ${text} is a glob pattern`;
  if (BRACE.test(shape)) return `the command name ${text} uses brace expansion`;
  return undefined;
}

/** The whole word is unquoted literal text (what reserved words and assignment names need). */
export function plainText(word: Word): string | undefined {
  const [first, ...rest] = word.parts;
  if (first === undefined || rest.length > 0 || first.type !== 'literal' || first.quoted) return undefined;
  return first.text;
}

const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)(?:\[[^\]]*\])?\+?=/;

/** The variable a `NAME=value` word assigns, or undefined when the word is not an assignment. */
export function assignedName(word: Word): string | undefined {
  const first = word.parts[0];
  if (first === undefined || first.type !== 'literal' || first.quoted) return undefined;
  return ASSIGNMENT.exec(first.text)?.[1];
}

/** `NAME=` or `NAME+=` with nothing after it: followed by `(`, it opens an array literal. */
export function isArrayAssignmentStart(word: Word): boolean {
  const text = plainText(word);
  return text !== undefined && /^[A-Za-z_][A-Za-z0-9_]*\+?=$/.test(text);
}

/** Every substitution script in the parts, recursively through `${…}` and `$((…))` operands. */
export function* substitutionScripts(parts: readonly WordPart[]): Generator<Script> {
  for (const p of parts) {
    if (p.type === 'command-substitution' || p.type === 'process-substitution') yield p.script;
    else if (p.type === 'parameter' || p.type === 'arithmetic') yield* substitutionScripts(p.inner);
  }
}

/**
 * Text that holds a command substitution which bash may run later, when it evaluates the text
 * again: an array subscript in a name that arithmetic, `test -v`/`[[ -v ]]`, `printf -v`, `read`,
 * `let` or `declare` evaluates (`x='a[$(rm f)]'; (( x ))` runs `rm`), and prompt expansion of a
 * value (`${x@P}`). The substitution is quoted, so it is not parsed as one, and the value may come
 * from anywhere; the text is made opaque rather than guessed at.
 */
export const SUBSCRIPT_SUBSTITUTION = /[A-Za-z0-9_]\[[^\]]*(?:\$\(|`)[^\]]*\]/;

export function deferredSubstitutionProblem(parts: readonly WordPart[]): string | undefined {
  let literal = '';
  for (const p of parts) {
    if (p.type === 'literal') {
      literal += p.text;
      continue;
    }
    if (p.type === 'parameter' && /@P\}$/.test(p.text)) {
      return `${p.text} runs the command substitutions its value holds (prompt expansion)`;
    }
    if (p.type === 'parameter' || p.type === 'arithmetic') {
      const inner = deferredSubstitutionProblem(p.inner);
      if (inner !== undefined) return inner;
    }
    literal += ' ';
  }
  if (SUBSCRIPT_SUBSTITUTION.test(literal)) {
    return `${JSON.stringify(literal)} holds a command substitution in an array subscript, which bash runs when it evaluates the name`;
  }
  return undefined;
}
