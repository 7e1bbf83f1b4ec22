/**
 * Shells inside shells: command strings, wrappers in front of the shell, `eval`, and the depth
 * limit (shells reading standard input are in stdin-programs.test.ts). The outer argv is always
 * kept; what the inner shell runs is added after it.
 */
import { describe, expect, it } from 'vitest';
import { parseShellCommand } from './parse-shell-command.js';

type Case = [text: string, commands: string[][], opaque?: boolean];

function check([text, commands, opaque = false]: Case): void {
  const result = parseShellCommand(text);
  expect({ commands: result.commands, opaque: result.opaque }, result.reasons.join('; ')).toEqual({
    commands,
    opaque,
  });
}

describe('command strings', () => {
  it.each<Case>([
    [
      "sh -c 'rm -rf /'",
      [
        ['sh', '-c', 'rm -rf /'],
        ['rm', '-rf', '/'],
      ],
    ],
    ['bash -c "sh -c \'rm\'"', [['bash', '-c', "sh -c 'rm'"], ['sh', '-c', 'rm'], ['rm']]],
    ["bash -lc 'ls; id'", [['bash', '-lc', 'ls; id'], ['ls'], ['id']]],
    [
      "/bin/sh -c 'rm x'",
      [
        ['/bin/sh', '-c', 'rm x'],
        ['rm', 'x'],
      ],
    ],
    [
      "/usr/bin/env bash -c 'rm x'",
      [
        ['/usr/bin/env', 'bash', '-c', 'rm x'],
        ['rm', 'x'],
      ],
    ],
    [
      "zsh -c 'rm x'",
      [
        ['zsh', '-c', 'rm x'],
        ['rm', 'x'],
      ],
    ],
    [
      "dash -c 'rm x'",
      [
        ['dash', '-c', 'rm x'],
        ['rm', 'x'],
      ],
    ],
    [
      "ksh93 -c 'rm x'",
      [
        ['ksh93', '-c', 'rm x'],
        ['rm', 'x'],
      ],
    ],
    [
      "busybox sh -c 'rm x'",
      [
        ['busybox', 'sh', '-c', 'rm x'],
        ['rm', 'x'],
      ],
    ],
    [
      "busybox ash -c 'rm x'",
      [
        ['busybox', 'ash', '-c', 'rm x'],
        ['rm', 'x'],
      ],
    ],
    [
      "bash -c -e 'rm x'",
      [
        ['bash', '-c', '-e', 'rm x'],
        ['rm', 'x'],
      ],
    ],
    [
      "bash -ec 'rm x'",
      [
        ['bash', '-ec', 'rm x'],
        ['rm', 'x'],
      ],
    ],
    [
      "bash -o pipefail -c 'rm x'",
      [
        ['bash', '-o', 'pipefail', '-c', 'rm x'],
        ['rm', 'x'],
      ],
    ],
    [
      "bash -eo pipefail -c 'rm x'",
      [
        ['bash', '-eo', 'pipefail', '-c', 'rm x'],
        ['rm', 'x'],
      ],
    ],
    [
      "bash -O extglob -c 'rm x'",
      [
        ['bash', '-O', 'extglob', '-c', 'rm x'],
        ['rm', 'x'],
      ],
    ],
    [
      "bash --norc --noprofile -c 'rm x'",
      [
        ['bash', '--norc', '--noprofile', '-c', 'rm x'],
        ['rm', 'x'],
      ],
    ],
    [
      "bash --rcfile f -c 'rm x'",
      [
        ['bash', '--rcfile', 'f', '-c', 'rm x'],
        ['rm', 'x'],
      ],
    ],
    [
      "bash -c -- 'rm x'",
      [
        ['bash', '-c', '--', 'rm x'],
        ['rm', 'x'],
      ],
    ],
    [
      'sh -c \'rm "$1"\' sh file',
      [
        ['sh', '-c', 'rm "$1"', 'sh', 'file'],
        ['rm', '$1'],
      ],
    ],
    ['sh -c', [['sh', '-c']]],
    [
      'sh -c \'sh -c "sh -c rm"\'',
      [['sh', '-c', 'sh -c "sh -c rm"'], ['sh', '-c', 'sh -c rm'], ['sh', '-c', 'rm'], ['rm']],
    ],
    [
      'sh -c "rm $x"',
      [
        ['sh', '-c', 'rm $x'],
        ['rm', '$x'],
      ],
      true,
    ],
    [
      'bash -c "$(curl -fsSL https://x/i.sh)"',
      [
        ['bash', '-c', '$(curl -fsSL https://x/i.sh)'],
        ['curl', '-fsSL', 'https://x/i.sh'],
        ['$(curl -fsSL https://x/i.sh)'],
        ['curl', '-fsSL', 'https://x/i.sh'],
      ],
      true,
    ],
    [
      "fish -c 'rm x'",
      [
        ['fish', '-c', 'rm x'],
        ['rm', 'x'],
      ],
      true,
    ],
    [
      "sh -c 'echo \"unterminated'",
      [
        ['sh', '-c', 'echo "unterminated'],
        ['echo', 'unterminated'],
      ],
      true,
    ],
  ])('%j', (text, commands, opaque) => check([text, commands, opaque]));
});

describe('wrappers in front of a shell', () => {
  it.each<Case>([
    [
      "sudo sh -c 'rm x'",
      [
        ['sudo', 'sh', '-c', 'rm x'],
        ['rm', 'x'],
      ],
    ],
    [
      "sudo -u root bash -c 'rm x'",
      [
        ['sudo', '-u', 'root', 'bash', '-c', 'rm x'],
        ['rm', 'x'],
      ],
    ],
    [
      "sudo -E -H -u x -- sh -c 'rm x'",
      [
        ['sudo', '-E', '-H', '-u', 'x', '--', 'sh', '-c', 'rm x'],
        ['rm', 'x'],
      ],
    ],
    [
      "sudo FOO=1 sh -c 'rm x'",
      [
        ['sudo', 'FOO=1', 'sh', '-c', 'rm x'],
        ['rm', 'x'],
      ],
    ],
    [
      "doas -u root sh -c 'rm x'",
      [
        ['doas', '-u', 'root', 'sh', '-c', 'rm x'],
        ['rm', 'x'],
      ],
    ],
    [
      "env bash -c 'rm x'",
      [
        ['env', 'bash', '-c', 'rm x'],
        ['rm', 'x'],
      ],
    ],
    [
      "env -u HOME -C /tmp X=1 sh -c 'rm x'",
      [
        ['env', '-u', 'HOME', '-C', '/tmp', 'X=1', 'sh', '-c', 'rm x'],
        ['rm', 'x'],
      ],
    ],
    [
      'env -S \'sh -c "rm x"\'',
      [
        ['env', '-S', 'sh -c "rm x"'],
        ['sh', '-c', 'rm x'],
        ['rm', 'x'],
      ],
    ],
    [
      "nohup nice -n 5 timeout -k 1 10 bash -c 'rm x' &",
      [
        ['nohup', 'nice', '-n', '5', 'timeout', '-k', '1', '10', 'bash', '-c', 'rm x'],
        ['rm', 'x'],
      ],
    ],
    [
      "stdbuf -o L ionice -c 3 sh -c 'rm x'",
      [
        ['stdbuf', '-o', 'L', 'ionice', '-c', '3', 'sh', '-c', 'rm x'],
        ['rm', 'x'],
      ],
    ],
    [
      "chroot /srv sh -c 'rm x'",
      [
        ['chroot', '/srv', 'sh', '-c', 'rm x'],
        ['rm', 'x'],
      ],
    ],
    [
      "runuser -u bob -- sh -c 'rm x'",
      [
        ['runuser', '-u', 'bob', '--', 'sh', '-c', 'rm x'],
        ['rm', 'x'],
      ],
    ],
    [
      "exec sh -c 'rm x'",
      [
        ['exec', 'sh', '-c', 'rm x'],
        ['rm', 'x'],
      ],
    ],
    [
      "command sh -c 'rm x'",
      [
        ['command', 'sh', '-c', 'rm x'],
        ['rm', 'x'],
      ],
    ],
    [
      'xargs sh -c \'rm "$@"\' _',
      [
        ['xargs', 'sh', '-c', 'rm "$@"', '_'],
        ['rm', '$@'],
      ],
    ],
    [
      'xargs -0 -n 1 bash -c \'rm "$0"\'',
      [
        ['xargs', '-0', '-n', '1', 'bash', '-c', 'rm "$0"'],
        ['rm', '$0'],
      ],
    ],
    [
      'find . -type f -exec sh -c \'rm "$1"\' _ {} \\;',
      [
        ['find', '.', '-type', 'f', '-exec', 'sh', '-c', 'rm "$1"', '_', '{}', ';'],
        ['sh', '-c', 'rm "$1"', '_', '{}'],
        ['rm', '$1'],
      ],
    ],
    [
      "find . -exec sh -c 'rm {}' \\;",
      [
        ['find', '.', '-exec', 'sh', '-c', 'rm {}', ';'],
        ['sh', '-c', 'rm {}'],
        ['rm', '{}'],
      ],
      true,
    ],
    [
      "watch -x sh -c 'rm x'",
      [
        ['watch', '-x', 'sh', '-c', 'rm x'],
        ['rm', 'x'],
      ],
    ],
    [
      "ssh -t host sudo sh -c 'rm x'",
      [['ssh', '-t', 'host', 'sudo', 'sh', '-c', 'rm x'], ['sudo', 'sh', '-c', 'rm', 'x'], ['rm']],
    ],
  ])('%j', (text, commands, opaque) => check([text, commands, opaque]));
});

describe('eval', () => {
  it.each<Case>([
    [
      'eval rm x',
      [
        ['eval', 'rm', 'x'],
        ['rm', 'x'],
      ],
    ],
    ["eval 'a; b' c", [['eval', 'a; b', 'c'], ['a'], ['b', 'c']]],
    [
      'eval -- rm x',
      [
        ['eval', '--', 'rm', 'x'],
        ['rm', 'x'],
      ],
    ],
    ['eval', [['eval']]],
    ['eval "$x"', [['eval', '$x'], ['$x']], true],
    [
      'eval "$(ssh-agent -s)"',
      [['eval', '$(ssh-agent -s)'], ['ssh-agent', '-s'], ['$(ssh-agent -s)'], ['ssh-agent', '-s']],
      true,
    ],
  ])('%j', (text, commands, opaque) => check([text, commands, opaque]));
});

describe('depth', () => {
  function nested(levels: number): string {
    let text = 'rm x';
    for (let i = 0; i < levels; i++) text = `sh -c '${text.replace(/'/g, "'\\''")}'`;
    return text;
  }

  it('follows shells up to maxDepth levels deep', () => {
    const result = parseShellCommand(nested(8));
    expect(result.opaque).toBe(false);
    expect(result.commands).toHaveLength(9);
    expect(result.commands.at(-1)).toEqual(['rm', 'x']);
  });

  it('is opaque one level deeper, and still reports the outer levels', () => {
    const result = parseShellCommand(nested(9));
    expect(result.opaque).toBe(true);
    expect(result.commands).toHaveLength(9);
    expect(result.commands.some((argv) => argv[0] === 'rm')).toBe(false);
  });

  it('honours maxDepth', () => {
    expect(parseShellCommand(nested(2), { maxDepth: 1 }).opaque).toBe(true);
    expect(parseShellCommand(nested(2), { maxDepth: 2 }).opaque).toBe(false);
    expect(parseShellCommand("sh -c 'rm x'", { maxDepth: 0 })).toEqual({
      commands: [['sh', '-c', 'rm x']],
      opaque: true,
      reasons: ['sh -c: shells nested deeper than 0 levels'],
    });
  });
});
