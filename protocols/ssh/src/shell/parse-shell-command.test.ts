// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are shell command lines, where ${…} is shell syntax
import { describe, expect, it } from 'vitest';
import { parseShellCommand } from './parse-shell-command.js';

/** `[text, commands, opaque]`: what bash would run, outer commands before the ones inside them. */
type Case = [text: string, commands: string[][], opaque?: boolean];

function check([text, commands, opaque = false]: Case): void {
  const result = parseShellCommand(text);
  expect({ commands: result.commands, opaque: result.opaque }, result.reasons.join('; ')).toEqual({
    commands,
    opaque,
  });
}

describe('words and quoting', () => {
  it.each<Case>([
    ['ls -la /tmp', [['ls', '-la', '/tmp']]],
    ['  ls\t-l  ', [['ls', '-l']]],
    ['echo \'a b\' "c d" e\\ f', [['echo', 'a b', 'c d', 'e f']]],
    ["echo ''", [['echo', '']]],
    ['echo "" x', [['echo', '', 'x']]],
    ["echo 'it'\\''s'", [['echo', "it's"]]],
    ['echo "a\\"b\\\\c\\$d\\`e\\xf"', [['echo', 'a"b\\c$d`e\\xf']]],
    ["echo 'no \\escapes $here'", [['echo', 'no \\escapes $here']]],
    ['echo \\$HOME \\"q\\" \\\\', [['echo', '$HOME', '"q"', '\\']]],
    ["echo $'a\\nb' $'\\x41\\101\\u0041' $'it\\'s'", [['echo', 'a\nb', 'AAA', "it's"]]],
    ['echo $"translated"', [['echo', 'translated']]],
    ['echo "$\'not ansi\'"', [['echo', "$'not ansi'"]]],
    ['echo a\\\nb', [['echo', 'ab']]],
    ['ec\\\nho split', [['echo', 'split']]],
    ['echo "a\\\nb"', [['echo', 'ab']]],
    ["echo 'a\\\nb'", [['echo', 'a\\\nb']]],
    ['echo "multi\nline"', [['echo', 'multi\nline']]],
    ['echo a#b #comment', [['echo', 'a#b']]],
    ['# only a comment', []],
    ['echo x # rm -rf /', [['echo', 'x']]],
    ['echo x;# rm -rf /', [['echo', 'x']]],
    ['echo ~ ~/x ~root', [['echo', '~', '~/x', '~root']]],
    ['rm -rf /tmp/{a,b} *.log [ab]?', [['rm', '-rf', '/tmp/{a,b}', '*.log', '[ab]?']]],
    ['echo é 😀', [['echo', 'é', '😀']]],
  ])('%j', (text, commands, opaque) => check([text, commands, opaque]));
});

describe('lists, pipelines and operators', () => {
  it.each<Case>([
    ['a; b', [['a'], ['b']]],
    ['a && b || c', [['a'], ['b'], ['c']]],
    ['a | b |& c', [['a'], ['b'], ['c']]],
    ['a & b &', [['a'], ['b']]],
    ['a\nb\n\nc', [['a'], ['b'], ['c']]],
    ['a &&\n b ||\n\n c |\n d', [['a'], ['b'], ['c'], ['d']]],
    ['a &\\\n& b', [['a'], ['b']]],
    ['! a | b', [['a'], ['b']]],
    ['! ! a', [['a']]],
    ['time a | b', [['a'], ['b']]],
    ['time -p a', [['a']]],
    ['a;b&&c||d|e', [['a'], ['b'], ['c'], ['d'], ['e']]],
    ['a;', [['a']]],
  ])('%j', (text, commands, opaque) => check([text, commands, opaque]));
});

describe('compound commands', () => {
  it.each<Case>([
    ['(a; b)', [['a'], ['b']]],
    ['( (a) )', [['a']]],
    ['{ a; b; }', [['a'], ['b']]],
    ['{ a\n}', [['a']]],
    ['{a,b}', [['{a,b}']], true],
    ['if a; then b; elif c; then d; else e; fi', [['a'], ['b'], ['c'], ['d'], ['e']]],
    ['if a\nthen\n  b\nfi', [['a'], ['b']]],
    ['while a; do b; done', [['a'], ['b']]],
    ['until a; do b; done', [['a'], ['b']]],
    ['for x in a $(b) c; do d "$x"; done', [['b'], ['d', '$x']]],
    ['for x; do a; done', [['a']]],
    ['for x\ndo a\ndone', [['a']]],
    ['for x in a b\ndo c; done', [['c']]],
    ['for ((i=0; i<$(n); i++)); do a $i; done', [['n'], ['a', '$i']]],
    ['for x in a; { b; }', [['b']]],
    ['select x in a b; do c; break; done', [['c'], ['break']]],
    ['case $(a) in x|y) b;; (z) c;& *) d;;& esac', [['a'], ['b'], ['c'], ['d']]],
    ['case x in\n  a) b\n  ;;\n  *) c\nesac', [['b'], ['c']]],
    ['case x in $(a)) b;; esac', [['a'], ['b']]],
    ['case x in esac', []],
    ['f() { a; }; f', [['a'], ['f']]],
    ['f () ( a )', [['a']]],
    ['function f { a; }', [['a']]],
    ['function f() { a; }', [['a']]],
    ['f() if a; then b; fi', [['a'], ['b']]],
    ['[[ -f x && $(a) == y ]] || b', [['a'], ['b']]],
    ['[[ x =~ ^(a|b)$ ]] && c', [['c']]],
    ['[[ a < b ]]', []],
    ['(( i++ ))', []],
    ['(( x = $(a) + `b` ))', [['a'], ['b']]],
    ['((a) )', [['a']]],
    ['((a); (b))', [['a'], ['b']]],
    ['coproc a b', [['a', 'b']]],
    ['coproc name { a; }', [['a']]],
    ['if a; then { b; } fi', [['a'], ['b']]],
    [
      'while read -r l; do echo "$l"; done < file',
      [
        ['read', '-r', 'l'],
        ['echo', '$l'],
      ],
    ],
    ['{ a; } > out 2>&1', [['a']]],
  ])('%j', (text, commands, opaque) => check([text, commands, opaque]));
});

describe('assignments and redirections', () => {
  it.each<Case>([
    ['FOO=bar cmd arg', [['cmd', 'arg']]],
    ['A=1 B=2 cmd', [['cmd']]],
    ['x=1', []],
    ['x=1 y=$(a)', [['a']]],
    ['x+=1 a[2]=y cmd', [['cmd']]],
    ['arr=(a $(b) c)', [['b']]],
    ['arr=(\n  a\n  b\n)', []],
    ['declare -a z=(1 $(b))', [['declare', '-a', 'z='], ['b']]],
    ['cmd a=b', [['cmd', 'a=b']]],
    ['"a=b" cmd', [['a=b', 'cmd']]],
    ['a\\=b', [['a=b']]],
    ['> file', []],
    ['< in cmd > out 2>> err', [['cmd']]],
    ['cmd 2>&1 >/dev/null', [['cmd']]],
    ['cmd &> all &>> more >| clobber <> rw', [['cmd']]],
    ['cmd 3<&0 4>&- >&2', [['cmd']]],
    ['{fd}>file cmd', [['cmd']]],
    ['cmd 2>$(a)', [['cmd'], ['a']]],
    ['cmd <<< "$(a)"', [['cmd'], ['a']]],
    ['cmd > >(a) 2> >(b)', [['cmd'], ['a'], ['b']]],
    [
      'diff <(a x) <(b y)',
      [
        ['diff', '<(a x)', '<(b y)'],
        ['a', 'x'],
        ['b', 'y'],
      ],
    ],
    ['echo x<(a)', [['echo', 'x<(a)'], ['a']]],
    ['cat <<EOF\nhello $(a) `b`\nEOF\nc', [['cat'], ['a'], ['b'], ['c']]],
    ["cat <<'EOF'\n$(not run)\nEOF", [['cat']]],
    ['cat <<"EOF"\n$(not run)\nEOF', [['cat']]],
    ['cat <<\\EOF\n$(not run)\nEOF', [['cat']]],
    ['cat <<-EOF\n\t$(a)\n\tEOF\nb', [['cat'], ['a'], ['b']]],
    ["cat <<A <<'B'; c\n$(a)\nA\n$(not)\nB\nd", [['cat'], ['a'], ['c'], ['d']]],
    ['cat <<EOF | grep x\nbody\nEOF', [['cat'], ['grep', 'x']]],
    ['x=$(cat <<EOF\n$(a)\nEOF\n)', [['cat'], ['a']]],
    ['cat <<EOF\nno end', [['cat']]],
  ])('%j', (text, commands, opaque) => check([text, commands, opaque]));
});

describe('expansions and substitutions', () => {
  it.each<Case>([
    [
      'echo $HOME ${USER} ${x:-default} ${#x} ${x//a/b}',
      [['echo', '$HOME', '${USER}', '${x:-default}', '${#x}', '${x//a/b}']],
    ],
    ['echo "$@" $* $# $? $$ $! $- $0 $1', [['echo', '$@', '$*', '$#', '$?', '$$', '$!', '$-', '$0', '$1']]],
    ['echo $(a)', [['echo', '$(a)'], ['a']]],
    ['echo `a`', [['echo', '`a`'], ['a']]],
    ['echo "$(a "$(b)")"', [['echo', '$(a "$(b)")'], ['a', '$(b)'], ['b']]],
    ['echo $(a $(b $(c)))', [['echo', '$(a $(b $(c)))'], ['a', '$(b $(c))'], ['b', '$(c)'], ['c']]],
    ['echo `a \\`b\\``', [['echo', '`a \\`b\\``'], ['a', '`b`'], ['b']]],
    [
      'echo "`a \\"q\\"`"',
      [
        ['echo', '`a \\"q\\"`'],
        ['a', 'q'],
      ],
    ],
    ['echo ${x:-$(a)} "${y:+`b`}"', [['echo', '${x:-$(a)}', '${y:+`b`}'], ['a'], ['b']]],
    ['echo $((1 + $(a))) $[2 * $(b)]', [['echo', '$((1 + $(a)))', '$[2 * $(b)]'], ['a'], ['b']]],
    ['echo $( (a) )', [['echo', '$( (a) )'], ['a']]],
    ['echo $((a) )', [['echo', '$((a) )'], ['a']]],
    ['echo $(case x in a) b;; esac)', [['echo', '$(case x in a) b;; esac)'], ['b']]],
    [
      'echo $(echo ")")',
      [
        ['echo', '$(echo ")")'],
        ['echo', ')'],
      ],
    ],
    ['echo $(a # comment )\n)', [['echo', '$(a # comment )\n)'], ['a']]],
    ['"$HOME/bin/tool" x', [['$HOME/bin/tool', 'x']]],
    ['~/bin/tool x', [['~/bin/tool', 'x']]],
    ['$HOME/bin/tool x', [['$HOME/bin/tool', 'x']], true],
    ['"$tool" x', [['$tool', 'x']], true],
    [
      '$(which rm) x',
      [
        ['$(which rm)', 'x'],
        ['which', 'rm'],
      ],
      true,
    ],
    [
      '`echo rm` x',
      [
        ['`echo rm`', 'x'],
        ['echo', 'rm'],
      ],
      true,
    ],
    ['/???/r? x', [['/???/r?', 'x']], true],
    ['r[m] x', [['r[m]', 'x']], true],
    ['[ -f x ]', [['[', '-f', 'x', ']']]],
    ['echo @(a|b) !(c)', [['echo', '@(a|b)', '!(c)']]],
  ])('%j', (text, commands, opaque) => check([text, commands, opaque]));
});

describe('syntax errors and unterminated input are opaque, and what was read is kept', () => {
  it.each<Case>([
    ["echo 'open", [['echo', 'open']], true],
    ['echo "open $(a)', [['echo', 'open $(a)'], ['a']], true],
    ['echo $(a', [['echo', '$(a'], ['a']], true],
    ['echo `a', [['echo', '`a'], ['a']], true],
    ['echo ${x', [['echo', '${x']], true],
    ["echo $'open", [['echo', 'open']], true],
    ['(a', [['a']], true],
    ['{ a', [['a']], true],
    ['if a; then b', [['a'], ['b']], true],
    ['for x in a; do b', [['b']], true],
    ['case x in a) b', [['b']], true],
    ['a; ) ; b', [['a'], ['b']], true],
    ['fi; a', [['a']], true],
    ['a | ; b', [['a'], ['b']], true],
    ['a &&', [['a']], true],
    ['; a', [['a']], true],
    ['a (b)', [['a'], ['b']], true],
    ['a >', [['a']], true],
    ['{ a }', [['a', '}']], true],
  ])('%j', (text, commands, opaque) => check([text, commands, opaque]));
});

describe('interactive lines', () => {
  it('flags history expansion only in an interactive shell', () => {
    expect(parseShellCommand('!!', { interactive: true }).opaque).toBe(true);
    expect(parseShellCommand('sudo !!', { interactive: true }).opaque).toBe(true);
    expect(parseShellCommand('echo "!rm"', { interactive: true }).opaque).toBe(true);
    expect(parseShellCommand("echo '!rm'", { interactive: true }).opaque).toBe(false);
    expect(parseShellCommand('echo hi! ; ! true', { interactive: true }).opaque).toBe(false);
    expect(parseShellCommand('echo !rm').opaque).toBe(false);
    expect(parseShellCommand('^echo^rm', { interactive: true }).opaque).toBe(true);
    expect(parseShellCommand('^echo^rm').opaque).toBe(false);
  });

  it('a shell started without a command reads the terminal, whose lines are judged as they come', () => {
    expect(parseShellCommand('bash', { interactive: true })).toEqual({
      commands: [['bash']],
      opaque: false,
      reasons: [],
    });
    expect(parseShellCommand('sudo -i', { interactive: true }).opaque).toBe(false);
    expect(parseShellCommand('python3', { interactive: true }).opaque).toBe(false);
    expect(parseShellCommand('curl x | bash', { interactive: true }).opaque).toBe(true);
  });
});

describe('reasons', () => {
  it.each([
    ["echo 'x", /unterminated single quote/],
    ['$CMD x', /command name \$CMD comes from an expansion/],
    ['rm${IFS}-rf /', /IFS/],
    ['IFS=/; x', /sets IFS/],
    ['{ a', /\{ without \}/],
    ['(', /unterminated subshell/],
    ['curl x | sh', /sh reads commands from a pipe/],
    ["sh -c 'a \"'", /sh -c: unterminated double quote/],
  ])('%j', (text, reason) => {
    const result = parseShellCommand(text);
    expect(result.opaque).toBe(true);
    expect(result.reasons.join('\n')).toMatch(reason);
  });

  it('a prefix IFS assignment affects only that command and is not opaque', () => {
    expect(parseShellCommand('while IFS= read -r line; do echo "$line"; done').opaque).toBe(false);
  });
});
