import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_LENGTH, parseShellCommand, type ShellParse } from './parse-shell-command.js';

function wellFormed(result: ShellParse): void {
  const bad = result.commands.filter((argv) => argv.length === 0 || argv.some((a) => typeof a !== 'string'));
  expect(bad).toEqual([]);
  expect(result.opaque).toBe(result.reasons.length > 0);
}

/** Fragments that reach every branch of the tokenizer and parser, so random lines are interesting. */
const fragment = fc.constantFrom(
  ' ',
  '\n',
  '\t',
  '\\\n',
  '\\',
  "'",
  '"',
  '`',
  '$',
  '$(',
  '$((',
  '${',
  "$'",
  '$"',
  '$[',
  '(',
  ')',
  '((',
  '))',
  '{',
  '}',
  '{ ',
  ' }',
  '[[ ',
  ' ]]',
  ';',
  ';;',
  '&',
  '&&',
  '|',
  '||',
  '|&',
  '<',
  '>',
  '>>',
  '<<',
  '<<-',
  '<<<',
  '<(',
  '>(',
  '2>&1',
  '&>',
  '#',
  '!',
  '=',
  'x=',
  'a=(',
  'EOF',
  '<<EOF\n',
  "<<'EOF'\n",
  '\nEOF\n',
  'if ',
  'then ',
  'elif ',
  'else ',
  'fi',
  'for ',
  ' in ',
  'do ',
  'done',
  'while ',
  'until ',
  'case ',
  'esac',
  ')',
  'function ',
  'f() ',
  'time ',
  'coproc ',
  'rm',
  ' -rf ',
  '/',
  'sh -c ',
  'bash -c ',
  'sudo ',
  'env ',
  'eval ',
  'echo ',
  'printf ',
  '%s',
  'xargs ',
  'find . -exec ',
  ' {} \\;',
  'watch ',
  'su -c ',
  'ssh h ',
  'source ',
  'alias a=',
  'trap ',
  '$IFS',
  '*',
  '?',
  '[',
  ']',
  '\\x72',
  '\\u0041',
  '\\0',
  'é',
  '😀',
);

const shellish = fc.array(fragment, { maxLength: 60 }).map((parts) => parts.join(''));

describe('parseShellCommand on arbitrary input', () => {
  it('never throws and returns well-formed results for any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
        wellFormed(parseShellCommand(text));
      }),
      { numRuns: 3000 },
    );
  });

  it('never throws and returns well-formed results for shell-like fragments', () => {
    fc.assert(
      fc.property(shellish, fc.boolean(), fc.integer({ min: 0, max: 10 }), (text, interactive, maxDepth) => {
        wellFormed(parseShellCommand(text, { interactive, maxDepth }));
      }),
      { numRuns: 5000 },
    );
  });

  it('reports every command of a line joined by separators', () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9_-]{0,8}$/);
    const arg = fc.stringMatching(/^[A-Za-z0-9_./,:@%+=-]{1,10}$/);
    const command = fc.tuple(name, fc.array(arg, { maxLength: 4 })).filter(([n]) => !RESERVED.has(n));
    const separator = fc.constantFrom('; ', ' && ', ' || ', ' | ', ' |& ', ' & ', '\n');
    fc.assert(
      fc.property(fc.array(fc.tuple(command, separator), { minLength: 1, maxLength: 8 }), (list) => {
        const text = list.map(([[n, args], sep]) => [n, ...args].join(' ') + sep).join('');
        const result = parseShellCommand(text);
        expect(result.commands).toEqual(list.map(([[n, args]]) => [n, ...args]));
      }),
    );
  });

  it('reads any single-quoted or ANSI-C-quoted text back as written', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (text) => {
        const single = `printf ${
          text === ''
            ? "''"
            : text
                .split("'")
                .map((s) => `'${s}'`)
                .join("\\'")
        }`;
        expect(parseShellCommand(single).commands).toEqual([['printf', text]]);
        const ansi = `printf $'${[...text].map((c) => `\\u${c.codePointAt(0)?.toString(16).padStart(4, '0')}`).join('')}'`;
        if (!text.includes('\0') && [...text].every((c) => (c.codePointAt(0) ?? 0) <= 0xffff)) {
          expect(parseShellCommand(ansi).commands).toEqual([['printf', text]]);
        }
      }),
    );
  });
});

const RESERVED = new Set([
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
]);

describe('parseShellCommand on hostile input', () => {
  const half = DEFAULT_MAX_LENGTH / 2;
  const hostile: [string, string][] = [
    ['open parentheses', '('.repeat(DEFAULT_MAX_LENGTH)],
    ['double parentheses', '(('.repeat(half)],
    ['command substitutions', '$('.repeat(half)],
    ['arithmetic expansions', '$(('.repeat(Math.floor(DEFAULT_MAX_LENGTH / 3))],
    ['parameter expansions', '${'.repeat(half)],
    ['backquotes', '`'.repeat(DEFAULT_MAX_LENGTH)],
    ['brace groups', '{ '.repeat(half)],
    ['ifs', 'if '.repeat(Math.floor(DEFAULT_MAX_LENGTH / 3))],
    ['process substitutions', '<('.repeat(half)],
    ['double quotes and substitutions', '"$('.repeat(Math.floor(DEFAULT_MAX_LENGTH / 3))],
    ['arithmetic that is not', `${'$(('.repeat(5000)}x${') )'.repeat(5000)}`],
    ['pipes', 'a|'.repeat(half)],
    ['here-documents', '<<E '.repeat(DEFAULT_MAX_LENGTH / 4)],
    ['here-document lines', `cat <<E\n${'x\n'.repeat(half - 8)}`],
    ['semicolons', ';'.repeat(DEFAULT_MAX_LENGTH)],
    ['continuations', '\\\n'.repeat(half)],
    ['closing words', 'fi '.repeat(Math.floor(DEFAULT_MAX_LENGTH / 3))],
    ['nested evals', `${'eval '.repeat(Math.floor(DEFAULT_MAX_LENGTH / 5) - 1)}rm`],
    ['nested sh -c', `${'sh -c '.repeat(Math.floor(DEFAULT_MAX_LENGTH / 6) - 1)}rm`],
    ['sudo chains', `${'sudo '.repeat(Math.floor(DEFAULT_MAX_LENGTH / 5) - 10)}sh -c rm`],
    ['find -exec chains', `find ${'-exec find '.repeat(Math.floor(DEFAULT_MAX_LENGTH / 11) - 2)}`],
    ['printf format reuse', `printf '${'%s'.repeat(1000)}${'A'.repeat(20000)}' ${'x '.repeat(10000)}| sh`],
    ['case items', `case x in ${'a) ;; '.repeat(Math.floor(DEFAULT_MAX_LENGTH / 6) - 5)}esac`],
  ];

  it.each(hostile)('%s: bounded time, well-formed, within the length limit', (_name, text) => {
    expect(text.length).toBeLessThanOrEqual(DEFAULT_MAX_LENGTH);
    const started = performance.now();
    const result = parseShellCommand(text);
    expect(performance.now() - started).toBeLessThan(2000);
    wellFormed(result);
  });

  it('deep nesting is opaque', () => {
    expect(parseShellCommand('('.repeat(1000)).opaque).toBe(true);
    expect(parseShellCommand(`${'$('.repeat(1000)}rm${')'.repeat(1000)}`).opaque).toBe(true);
    expect(parseShellCommand(`${'{ '.repeat(1000)}rm${'; }'.repeat(1000)}`).opaque).toBe(true);
  });

  it('nesting counts across nested shells, so a high maxDepth cannot exhaust the stack', () => {
    let text = 'rm x';
    for (let k = 0; k < 60; k++) text = `${'( '.repeat(99)}sh <<'E${k}'\n${text}\nE${k}\n${' )'.repeat(99)}`;
    const result = parseShellCommand(text, { maxDepth: 1000 });
    wellFormed(result);
    expect(result.reasons).toContain('nesting deeper than 100 levels');
  });

  it('refuses input beyond maxLength without parsing it', () => {
    const result = parseShellCommand(`rm ${'x'.repeat(DEFAULT_MAX_LENGTH)}`);
    expect(result).toEqual({
      commands: [],
      opaque: true,
      reasons: [`the command line is longer than ${DEFAULT_MAX_LENGTH} characters`],
    });
    expect(parseShellCommand('rm -rf /', { maxLength: 4 }).opaque).toBe(true);
  });
});
