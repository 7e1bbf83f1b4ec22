// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are shell command lines, where ${…} is shell syntax
/**
 * Text bash evaluates a second time, so that a quoted command substitution runs after all: array
 * subscripts in names that arithmetic, `test -v`, `printf -v`, `read`, `let` and `declare` evaluate,
 * prompt expansion (`${x@P}`), and quoted array values given to `declare`. Each of these deleted a
 * file in bash 5.2 while the words showed no `rm`; each must now be opaque. Also: programs that hand
 * command text to something else to run (tmux, at/batch, socat).
 */
import { describe, expect, it } from 'vitest';
import { parseShellCommand } from './parse-shell-command.js';

describe('a quoted command substitution bash evaluates again is opaque', () => {
  it.each([
    "x='a[$(rm f)]'; (( x ))",
    "x='a[$(rm f)]'; echo $((x))",
    "x='a[$(rm f)]'; y=$((x+1))",
    "x='a[$(rm f)]'; [[ $x -eq 0 ]]",
    "x='a[`rm f`]'; (( x ))",
    "[[ -v 'a[$(rm f)]' ]]",
    "test -v 'a[$(rm f)]'",
    "printf -v 'a[$(rm f)]' x",
    "read 'a[$(rm f)]' <<<1",
    "let 'a[$(rm f)]'",
    "declare 'a[$(rm f)]=1'",
    "declare -n r='a[$(rm f)]'; echo $r",
    "a=(); a['$(rm f)']=1",
    'x=a[\\$\\(rm\\ f\\)]; (( x ))',
    "declare -a 'x=($(rm f))'",
    "local -a 'x=(`rm f`)'",
    "x='$(rm f)'; echo ${x@P}",
    'x=\'$(rm f)\'; echo "${x@P}"',
  ])('%j', (text) => {
    const result = parseShellCommand(text);
    expect(result.opaque, JSON.stringify(result)).toBe(true);
  });

  it('leaves ordinary arithmetic, subscripts and quoted text alone', () => {
    for (const text of [
      'for ((i=0; i<3; i++)); do echo $i; done',
      'a=(1 2 3); echo ${a[1]} $(( ${#a[@]} + 1 ))',
      "echo '$(not run)'",
      "grep -E '[a-z]+' file",
      'x=${y@Q}; echo "$x"',
    ]) {
      expect(parseShellCommand(text).opaque, text).toBe(false);
    }
  });
});

describe('programs that run command text elsewhere', () => {
  it.each<[string, string[]]>([
    ["tmux new -d 'rm f'", ['rm', 'f']],
    ["tmux new-session -d -s x 'rm f'", ['rm', 'f']],
    ["tmux split-window 'rm f'", ['rm', 'f']],
    ["tmux run-shell 'rm f'", ['rm', 'f']],
    ["sudo tmux new -d 'rm f'", ['rm', 'f']],
    ["at now <<<'rm f'", ['rm', 'f']],
    ["echo 'rm f' | batch", ['rm', 'f']],
    ["socat - EXEC:'rm f'", ['rm', 'f']],
    ["socat - 'SYSTEM:rm f,pty'", ['rm', 'f']],
  ])('%j shows %j and is opaque', (text, inner) => {
    const result = parseShellCommand(text);
    expect(result.commands).toContainEqual(inner);
    expect(result.opaque).toBe(true);
  });

  it('opaque without a visible payload, and quiet when nothing runs', () => {
    expect(parseShellCommand('tmux send-keys -t 0 "$K" Enter').opaque).toBe(true);
    expect(parseShellCommand('at -f /tmp/job now').opaque).toBe(true);
    expect(parseShellCommand('tmux ls').opaque).toBe(false);
    expect(parseShellCommand('at -l').opaque).toBe(false);
    expect(parseShellCommand('socat - TCP:127.0.0.1:80').opaque).toBe(false);
  });
});
