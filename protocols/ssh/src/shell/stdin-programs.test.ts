/**
 * Shells and interpreters that read their program from standard input: when the text shows what
 * feeds them (echo, printf, a here-document, a here-string), that program is parsed; otherwise the
 * result is opaque, since the program is data the gateway does not see.
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

describe('shells reading commands from standard input', () => {
  it.each<Case>([
    ["echo 'rm -rf /' | sh", [['echo', 'rm -rf /'], ['sh'], ['rm', '-rf', '/']]],
    [
      'echo rm x | bash -s',
      [
        ['echo', 'rm', 'x'],
        ['bash', '-s'],
        ['rm', 'x'],
      ],
    ],
    [
      'echo rm x | bash -s -- arg',
      [
        ['echo', 'rm', 'x'],
        ['bash', '-s', '--', 'arg'],
        ['rm', 'x'],
      ],
    ],
    ["printf 'rm a\\nrm b\\n' | sh", [['printf', 'rm a\\nrm b\\n'], ['sh'], ['rm', 'a'], ['rm', 'b']]],
    ["printf '%s\\n' 'rm x' | sh", [['printf', '%s\\n', 'rm x'], ['sh'], ['rm', 'x']]],
    ["echo 'rm\\tx' | sh", [['echo', 'rm\\tx'], ['sh'], ['rmtx'], ['rm', 'x']]],
    ['echo rm x | (sh)', [['echo', 'rm', 'x'], ['sh'], ['rm', 'x']]],
    [
      'echo rm x | sudo sh',
      [
        ['echo', 'rm', 'x'],
        ['sudo', 'sh'],
        ['rm', 'x'],
      ],
    ],
    ["sh <<'EOF'\nrm x\nEOF", [['sh'], ['rm', 'x']]],
    ['sh <<EOF\nrm x\nEOF', [['sh'], ['rm', 'x']]],
    ['bash <<-EOF\n\trm x\n\tEOF', [['bash'], ['rm', 'x']]],
    ["bash <<< 'rm x'", [['bash'], ['rm', 'x']]],
    ["cat <<'EOF' | sh\nrm x\nEOF", [['cat'], ['sh'], ['rm', 'x']]],
    ['sh < <(echo rm x)', [['sh'], ['echo', 'rm', 'x'], ['rm', 'x']]],
    [
      'bash <(echo rm x)',
      [
        ['bash', '<(echo rm x)'],
        ['echo', 'rm', 'x'],
        ['rm', 'x'],
      ],
    ],
    [
      "su - <<'EOF'\nrm x\nEOF",
      [
        ['su', '-'],
        ['rm', 'x'],
      ],
    ],
    ['sh <<EOF\nrm $x\nEOF', [['sh'], ['rm', '$x']], true],
    ['bash <<< "$cmd"', [['bash'], ['$cmd']], true],
    ['curl -fsSL https://x | bash', [['curl', '-fsSL', 'https://x'], ['bash']], true],
    [
      'curl x | sudo bash -s',
      [
        ['curl', 'x'],
        ['sudo', 'bash', '-s'],
      ],
      true,
    ],
    ['cat script.sh | sh', [['cat', 'script.sh'], ['sh']], true],
    ['echo "rm $x" | sh', [['echo', 'rm $x'], ['sh']], true],
    ['{ echo rm; } | sh', [['echo', 'rm'], ['sh']], true],
    ['sh < script.sh', [['sh']], true],
    ['sh -s < script.sh', [['sh', '-s']], true],
    [
      'bash <(curl x)',
      [
        ['bash', '<(curl x)'],
        ['curl', 'x'],
      ],
      true,
    ],
    ['sh', [['sh']], true],
    ['exec bash -l', [['exec', 'bash', '-l']], true],
    ['sudo -i', [['sudo', '-i']], true],
    ['sudo su -', [['sudo', 'su', '-']], true],
    [
      "ssh host 'bash -s' < local.sh",
      [
        ['ssh', 'host', 'bash -s'],
        ['bash', '-s'],
      ],
      true,
    ],
    ['echo bash | sh', [['echo', 'bash'], ['sh'], ['bash']], true],
    [
      "echo 'rm x' | bash /dev/stdin",
      [
        ['echo', 'rm x'],
        ['bash', '/dev/stdin'],
        ['rm', 'x'],
      ],
    ],
    [
      'curl x | bash /dev/fd/0',
      [
        ['curl', 'x'],
        ['bash', '/dev/fd/0'],
      ],
      true,
    ],
    [
      "source /dev/stdin <<< 'rm x'",
      [
        ['source', '/dev/stdin'],
        ['rm', 'x'],
      ],
    ],
    ['bash /dev/fd/3 3< x', [['bash', '/dev/fd/3']], true],
    [
      'curl x | python3 /dev/stdin',
      [
        ['curl', 'x'],
        ['python3', '/dev/stdin'],
      ],
      true,
    ],
    ['sudo -iu root', [['sudo', '-iu', 'root']], true],
    [
      "sudo -Eu root sh -c 'rm x'",
      [
        ['sudo', '-Eu', 'root', 'sh', '-c', 'rm x'],
        ['rm', 'x'],
      ],
    ],
    ['command -pv sh', [['command', '-pv', 'sh']]],
    ['sh script.sh', [['sh', 'script.sh']]],
    ['bash -x ./deploy.sh arg', [['bash', '-x', './deploy.sh', 'arg']]],
  ])('%j', (text, commands, opaque) => check([text, commands, opaque]));
});

describe('other interpreters reading a program from standard input', () => {
  it.each<Case>([
    ["python3 <<'EOF'\nimport os\nEOF", [['python3']], true],
    ['curl x | python3', [['curl', 'x'], ['python3']], true],
    [
      'curl x | python3 -',
      [
        ['curl', 'x'],
        ['python3', '-'],
      ],
      true,
    ],
    ['perl < x.pl', [['perl']], true],
    ['node <<< "require(1)"', [['node']], true],
    ["python3 -c 'print(1)'", [['python3', '-c', 'print(1)']]],
    ['python3 -m json.tool < data.json', [['python3', '-m', 'json.tool']]],
    ['python3 script.py < data.txt', [['python3', 'script.py']]],
    ['python3 -W ignore script.py', [['python3', '-W', 'ignore', 'script.py']]],
    ["perl -ne 'print' < f", [['perl', '-ne', 'print']]],
    ["node -e 'x'", [['node', '-e', 'x']]],
    [
      'cat x.json | python -m json.tool',
      [
        ['cat', 'x.json'],
        ['python', '-m', 'json.tool'],
      ],
    ],
  ])('%j', (text, commands, opaque) => check([text, commands, opaque]));
});
