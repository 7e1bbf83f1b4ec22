/**
 * Checks the parser against the real bash, where bash is installed. Nothing is ever run but the
 * `printf` builtin and `bash -n` (parse only), with an empty PATH and a scratch working directory.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parseShellCommand } from './parse-shell-command.js';
import { SUBSCRIPT_SUBSTITUTION } from './words.js';

const BASH = '/bin/bash';
const scratch = mkdtempSync(join(tmpdir(), 'gatehouse-shell-'));
afterAll(() => {
  if (scratch !== '') rmSync(scratch, { recursive: true, force: true });
});

function bash(args: string[]): Buffer {
  return execFileSync(BASH, ['--norc', '--noprofile', ...args], {
    cwd: scratch,
    env: { PATH: '/nonexistent', LANG: 'C.UTF-8' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Words as bash splits and unquotes them, seen through `printf '%s\0'`. */
function bashWords(words: string): string[] {
  // A leading `-` keeps printf from printing an empty field when the words expand to nothing.
  const out = bash(['-c', `printf '%s\\0' - ${words}`]).toString('utf8');
  return out.split('\0').slice(1, -1);
}

function bashParses(text: string): boolean {
  try {
    bash(['-n', '-c', text]);
    return true;
  } catch {
    return false;
  }
}

describe('agreement with bash', () => {
  it.each([
    "r''m -rf /",
    '\\rm -rf /',
    '"rm" -rf /',
    "$'\\x72m' -rf /",
    "$'\\162\\155' $'\\u0072m' $'r\\0junk'm",
    'r\\m x',
    '\'a b\' "c d" e\\ f \'\' ""',
    "'it'\\''s' \"a\\\"b\\\\c\\$d\\`e\\xf\"",
    "'no \\escapes $here'",
    'a\\\nb "c\\\nd"',
    "$'a\\nb' $'it\\'s' $\"plain\"",
    '"$\'not ansi\'"',
    'x#y',
    "é 😀 $'\\u00e9'",
    '-rf --x=y \'a\'"b"c',
  ])('splits and unquotes words like bash: %j', (words) => {
    const ours = parseShellCommand(`printf '%s\\0' ${words}`);
    expect(ours.opaque).toBe(false);
    expect(ours.commands).toHaveLength(1);
    expect(ours.commands[0]?.slice(2)).toEqual(bashWords(words));
  });

  it('splits and unquotes random quoted words like bash', () => {
    const plain = fc.stringMatching(/^[A-Za-z0-9_.,:@%+=/-]{1,6}$/);
    const single = fc.stringMatching(/^[^'\0]{0,8}$/).map((s) => `'${s}'`);
    const double = fc
      .array(
        fc.constantFrom(
          'a',
          ' ',
          ';',
          '|',
          '&',
          '<',
          '(',
          ')',
          "'",
          '\\"',
          '\\\\',
          '\\$',
          '\\`',
          '\\x',
          '\\\n',
          '#',
          '~',
        ),
        {
          maxLength: 8,
        },
      )
      .map((parts) => `"${parts.join('')}"`);
    const escaped = fc.constantFrom(
      '\\ ',
      '\\;',
      '\\|',
      '\\&',
      '\\<',
      '\\(',
      '\\$',
      '\\`',
      '\\"',
      "\\'",
      '\\\\',
      '\\a',
      '\\\n',
    );
    const ansi = fc
      .array(
        fc.constantFrom(
          'a',
          ' ',
          "\\'",
          '\\"',
          '\\\\',
          '\\n',
          '\\t',
          '\\x41',
          '\\101',
          '\\u00e9',
          '\\cA',
          '\\q',
          '\\0x',
        ),
        {
          maxLength: 6,
        },
      )
      .map((parts) => `$'${parts.join('')}'`);
    const word = fc
      .array(fc.oneof(plain, single, double, escaped, ansi), { minLength: 1, maxLength: 4 })
      .map((p) => p.join(''));
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 4 }), (words) => {
        const text = words.join(' ');
        const ours = parseShellCommand(`printf '%s\\0' ${text}`);
        const split = bashWords(text);
        // A word shaped like an array subscript holding a substitution (`a[$(…)]`, `` a[`…`] ``) is
        // opaque on purpose, quoted or not: bash runs it if the text is ever evaluated as a name.
        const deferred = split.some((w) => SUBSCRIPT_SUBSTITUTION.test(w));
        expect(ours.opaque).toBe(deferred);
        expect(ours.commands.slice(0, 1).map((argv) => argv.slice(2))).toEqual([split]);
      }),
      { numRuns: 150 },
    );
  });

  it.each([
    'a; b && c || d | e |& f &',
    'if a; then b; elif c; then d; else e; fi',
    'for x in a b; do c; done',
    'for ((i=0; i<3; i++)); do a; done',
    'while a; do b; done < f',
    'case x in a|b) c;; (d) e;& *) f;;& esac',
    'f() { a; }; function g { b; }',
    '[[ -f x && y =~ ^(a|b)$ ]]',
    '(( i++ )); ((a) )',
    'echo $(case x in a) b;; esac) $((1+2)) $( (c) )',
    "cat <<EOF\n$(a)\nEOF\ncat <<-'E'\n\tx\n\tE",
    'arr=(a b $(c)); declare -a z=(1 2)',
    'coproc name { a; }',
    'a &\\\n& b',
    "echo 'open",
    'echo "open',
    'echo $(open',
    '(a',
    '{ a',
    'if a; then b',
    'a; ) ; b',
    'fi',
    'a | ; b',
    'a &&',
    '; a',
    'a (b)',
    'a >',
    '{ a }',
    'case x in a) b',
  ])('finds syntax errors where bash -n does: %j', (text) => {
    const ours = parseShellCommand(text);
    const syntaxOk = !ours.reasons.some((r) => /syntax|unterminated|without/.test(r));
    expect(syntaxOk).toBe(bashParses(text));
  });
});
