// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are shell command lines, where ${…} is shell syntax
/**
 * Ways people (and agents) hide a program from a naive matcher. Each must either show the program
 * in some argv — as argv[0], or behind a wrapper the policy engine unwraps (`command`, `sudo`,
 * `xargs`, `find`…) — or make the result opaque.
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

describe('spelling the program name differently', () => {
  it.each<Case>([
    ["r''m -rf /", [['rm', '-rf', '/']]],
    ['r""m -rf /', [['rm', '-rf', '/']]],
    ['\\rm -rf /', [['rm', '-rf', '/']]],
    ['r\\m -rf /', [['rm', '-rf', '/']]],
    ['"rm" -rf /', [['rm', '-rf', '/']]],
    ["'rm' -rf /", [['rm', '-rf', '/']]],
    ["$'\\x72m' -rf /", [['rm', '-rf', '/']]],
    ["$'\\162\\155' -rf /", [['rm', '-rf', '/']]],
    ["$'\\u0072\\u006d' -rf /", [['rm', '-rf', '/']]],
    ["$'r\\0junk'm -rf /", [['rm', '-rf', '/']]],
    ['$"rm" -rf /', [['rm', '-rf', '/']]],
    ['r\\\nm -rf /', [['rm', '-rf', '/']]],
    ['/bin/rm -rf /', [['/bin/rm', '-rf', '/']]],
    ['/usr/bin/../bin/rm x', [['/usr/bin/../bin/rm', 'x']]],
    ['./rm x', [['./rm', 'x']]],
    ['command rm x', [['command', 'rm', 'x']]],
    ['builtin command rm x', [['builtin', 'command', 'rm', 'x']]],
    ['exec rm x', [['exec', 'rm', 'x']]],
    ['time rm x', [['rm', 'x']]],
    ['nohup rm x &', [['nohup', 'rm', 'x']]],
    ['sudo -u root rm x', [['sudo', '-u', 'root', 'rm', 'x']]],
    ['env -i X=1 rm x', [['env', '-i', 'X=1', 'rm', 'x']]],
    ['timeout 5 rm x', [['timeout', '5', 'rm', 'x']]],
    ['nice -n 10 rm x', [['nice', '-n', '10', 'rm', 'x']]],
    ['xargs rm', [['xargs', 'rm']]],
    ['xargs -0 -n 1 rm -f', [['xargs', '-0', '-n', '1', 'rm', '-f']]],
  ])('%j', (text, commands, opaque) => check([text, commands, opaque]));
});

describe('hiding the program among other commands', () => {
  it.each<Case>([
    ['x=1; rm y', [['rm', 'y']]],
    ['x=1 rm y', [['rm', 'y']]],
    ['true && rm x', [['true'], ['rm', 'x']]],
    ['false || rm x', [['false'], ['rm', 'x']]],
    ['true; rm x', [['true'], ['rm', 'x']]],
    ['true & rm x', [['true'], ['rm', 'x']]],
    ['ls\nrm x', [['ls'], ['rm', 'x']]],
    // A carriage return is an ordinary character to the shell, not a blank.
    ['ls\r\nrm x', [['ls\r'], ['rm', 'x']]],
    ['a | rm x', [['a'], ['rm', 'x']]],
    ['(rm x)', [['rm', 'x']]],
    ['{ rm x; }', [['rm', 'x']]],
    ['! rm x', [['rm', 'x']]],
    ['!(rm x)', [['rm', 'x']]],
    ['`rm x`', [['`rm x`'], ['rm', 'x']], true],
    ['$(rm x)', [['$(rm x)'], ['rm', 'x']], true],
    [
      'echo $(rm -rf /)',
      [
        ['echo', '$(rm -rf /)'],
        ['rm', '-rf', '/'],
      ],
    ],
    [
      'echo "`rm -rf /`"',
      [
        ['echo', '`rm -rf /`'],
        ['rm', '-rf', '/'],
      ],
    ],
    [
      'echo <(rm x)',
      [
        ['echo', '<(rm x)'],
        ['rm', 'x'],
      ],
    ],
    ['cat > >(rm x)', [['cat'], ['rm', 'x']]],
    [
      'echo ${x:-$(rm x)}',
      [
        ['echo', '${x:-$(rm x)}'],
        ['rm', 'x'],
      ],
    ],
    [
      'echo $(( $(rm x) ))',
      [
        ['echo', '$(( $(rm x) ))'],
        ['rm', 'x'],
      ],
    ],
    ['x=$(rm x)', [['rm', 'x']]],
    ['ls > $(rm x)', [['ls'], ['rm', 'x']]],
    ['cat <<EOF\n$(rm x)\nEOF', [['cat'], ['rm', 'x']]],
    ['[[ $(rm x) ]]', [['rm', 'x']]],
    ['(( $(rm x) ))', [['rm', 'x']]],
    ['case $(rm x) in *) ;; esac', [['rm', 'x']]],
    ['for i in $(rm x); do :; done', [['rm', 'x'], [':']]],
    ['if rm x; then :; fi', [['rm', 'x'], [':']]],
    ['while rm x; do :; done', [['rm', 'x'], [':']]],
    ['f() { rm x; }', [['rm', 'x']]],
    ['function f { rm x; }', [['rm', 'x']]],
    ['coproc rm x', [['rm', 'x']]],
    ['ls # comment\nrm x', [['ls'], ['rm', 'x']]],
    ['ls # ; rm x', [['ls']]],
    [
      'echo "# not a comment"; rm x',
      [
        ['echo', '# not a comment'],
        ['rm', 'x'],
      ],
    ],
    ["echo '; rm x'", [['echo', '; rm x']]],
  ])('%j', (text, commands, opaque) => check([text, commands, opaque]));
});

describe('making the program name unknowable is opaque', () => {
  it.each<Case>([
    ['$CMD -rf /', [['$CMD', '-rf', '/']], true],
    ['${CMD} -rf /', [['${CMD}', '-rf', '/']], true],
    ['"$CMD" -rf /', [['$CMD', '-rf', '/']], true],
    ['r$X -rf /', [['r$X', '-rf', '/']], true],
    ['rm${IFS}-rf${IFS}/', [['rm${IFS}-rf${IFS}/']], true],
    ['rm$IFS-rf', [['rm$IFS-rf']], true],
    ['echo rm -rf "${IFS}"', [['echo', 'rm', '-rf', '${IFS}']], true],
    ['IFS=,; x=rm,-rf,/; $x', [['$x']], true],
    ['{rm,-rf,/}', [['{rm,-rf,/}']], true],
    ['/???/r? -rf /', [['/???/r?', '-rf', '/']], true],
    ['/bin/r* -rf /', [['/bin/r*', '-rf', '/']], true],
    ['/bin/[r]m -rf /', [['/bin/[r]m', '-rf', '/']], true],
    [
      '$(echo rm) -rf /',
      [
        ['$(echo rm)', '-rf', '/'],
        ['echo', 'rm'],
      ],
      true,
    ],
    [
      '`printf rm` -rf /',
      [
        ['`printf rm`', '-rf', '/'],
        ['printf', 'rm'],
      ],
      true,
    ],
    ['$(cat script)', [['$(cat script)'], ['cat', 'script']], true],
    ['eval "$x"', [['eval', '$x'], ['$x']], true],
    [
      'eval $(base64 -d <<< cm0K)',
      [['eval', '$(base64 -d <<< cm0K)'], ['base64', '-d'], ['$(base64 -d <<< cm0K)'], ['base64', '-d']],
      true,
    ],
    ['sudo $CMD', [['sudo', '$CMD']], true],
    ['source ./x.sh', [['source', './x.sh']], true],
    ['. ./x.sh', [['.', './x.sh']], true],
    ['alias ls=rm; ls x', [['alias', 'ls=rm'], ['rm'], ['ls', 'x']]],
    ['PATH=/tmp/evil:$PATH ls', [['ls']], true],
    ['LD_PRELOAD=/tmp/x.so ls', [['ls']], true],
    ['env BASH_ENV=/tmp/x bash -c ls', [['env', 'BASH_ENV=/tmp/x', 'bash', '-c', 'ls'], ['ls']], true],
    [
      'hash -p /bin/rm ls; ls /',
      [
        ['hash', '-p', '/bin/rm', 'ls'],
        ['ls', '/'],
      ],
      true,
    ],
    ['fc -s', [['fc', '-s']], true],
    ['find . -name "*.sh" -exec {} \\;', [['find', '.', '-name', '*.sh', '-exec', '{}', ';'], ['{}']], true],
    ["xargs -I{} sh -c '{}'", [['xargs', '-I{}', 'sh', '-c', '{}'], ['{}']], true],
    [
      'echo x | xargs -I % % -rf /',
      [
        ['echo', 'x'],
        ['xargs', '-I', '%', '%', '-rf', '/'],
      ],
      true,
    ],
  ])('%j', (text, commands, opaque) => check([text, commands, opaque]));
});

describe('running the program through another program', () => {
  it.each<Case>([
    [
      'find / -exec rm {} \\;',
      [
        ['find', '/', '-exec', 'rm', '{}', ';'],
        ['rm', '{}'],
      ],
    ],
    [
      "find / -exec rm {} ';'",
      [
        ['find', '/', '-exec', 'rm', '{}', ';'],
        ['rm', '{}'],
      ],
    ],
    [
      'find . -execdir rm -f {} +',
      [
        ['find', '.', '-execdir', 'rm', '-f', '{}', '+'],
        ['rm', '-f', '{}'],
      ],
    ],
    [
      'find . -ok rm {} \\; -o -exec chmod 777 {} +',
      [
        ['find', '.', '-ok', 'rm', '{}', ';', '-o', '-exec', 'chmod', '777', '{}', '+'],
        ['rm', '{}'],
        ['chmod', '777', '{}'],
      ],
    ],
    [
      'eval rm x',
      [
        ['eval', 'rm', 'x'],
        ['rm', 'x'],
      ],
    ],
    ["eval 'rm x; ls'", [['eval', 'rm x; ls'], ['rm', 'x'], ['ls']]],
    [
      'eval eval rm x',
      [
        ['eval', 'eval', 'rm', 'x'],
        ['eval', 'rm', 'x'],
        ['rm', 'x'],
      ],
    ],
    [
      "watch 'rm -rf /tmp/x'",
      [
        ['watch', 'rm -rf /tmp/x'],
        ['rm', '-rf', '/tmp/x'],
      ],
    ],
    [
      'watch -n 1 rm -rf /tmp/x',
      [
        ['watch', '-n', '1', 'rm', '-rf', '/tmp/x'],
        ['rm', '-rf', '/tmp/x'],
      ],
    ],
    ['watch -x rm x', [['watch', '-x', 'rm', 'x']]],
    [
      "trap 'rm -rf /' EXIT",
      [
        ['trap', 'rm -rf /', 'EXIT'],
        ['rm', '-rf', '/'],
      ],
    ],
    [
      "alias ll='rm -rf /'",
      [
        ['alias', 'll=rm -rf /'],
        ['rm', '-rf', '/'],
      ],
    ],
    [
      "su -c 'rm x' root",
      [
        ['su', '-c', 'rm x', 'root'],
        ['rm', 'x'],
      ],
    ],
    [
      "su root -c 'rm x'",
      [
        ['su', 'root', '-c', 'rm x'],
        ['rm', 'x'],
      ],
    ],
    [
      "runuser -l bob -c 'rm x'",
      [
        ['runuser', '-l', 'bob', '-c', 'rm x'],
        ['rm', 'x'],
      ],
    ],
    [
      "flock /tmp/l -c 'rm x'",
      [
        ['flock', '/tmp/l', '-c', 'rm x'],
        ['rm', 'x'],
      ],
    ],
    [
      "script -qc 'rm x' /dev/null",
      [
        ['script', '-qc', 'rm x', '/dev/null'],
        ['rm', 'x'],
      ],
    ],
    [
      "env -S 'rm x'",
      [
        ['env', '-S', 'rm x'],
        ['rm', 'x'],
      ],
    ],
    [
      "ssh host 'rm -rf /'",
      [
        ['ssh', 'host', 'rm -rf /'],
        ['rm', '-rf', '/'],
      ],
    ],
    [
      'ssh -p 22 -o X=y host rm -rf /',
      [
        ['ssh', '-p', '22', '-o', 'X=y', 'host', 'rm', '-rf', '/'],
        ['rm', '-rf', '/'],
      ],
    ],
    [
      "docker exec c sh -c 'rm x'",
      [
        ['docker', 'exec', 'c', 'sh', '-c', 'rm x'],
        ['rm', 'x'],
      ],
    ],
    [
      "kubectl exec p -- bash -c 'rm x'",
      [
        ['kubectl', 'exec', 'p', '--', 'bash', '-c', 'rm x'],
        ['rm', 'x'],
      ],
    ],
  ])('%j', (text, commands, opaque) => check([text, commands, opaque]));
});

describe('input that is cut short or too deep is opaque', () => {
  it.each<Case>([
    ["rm 'x", [['rm', 'x']], true],
    ['rm "x', [['rm', 'x']], true],
    ['rm $(x', [['rm', '$(x'], ['x']], true],
    ['rm `x', [['rm', '`x'], ['x']], true],
    ['rm \\', [['rm', '\\']]],
    ['(((((((((((rm)', [['rm']], true],
  ])('%j', (text, commands, opaque) => check([text, commands, opaque]));

  it('nesting beyond the limit is opaque', () => {
    // `((((rm x))))` is arithmetic (bash evaluates it and runs nothing); spaces make subshells.
    expect(parseShellCommand(`${'('.repeat(200)}rm x${')'.repeat(200)}`).commands).toEqual([]);
    const deep = `${'( '.repeat(200)}rm x${' )'.repeat(200)}`;
    expect(parseShellCommand(deep).opaque).toBe(true);
    const subs = `echo ${'$('.repeat(200)}rm x${')'.repeat(200)}`;
    expect(parseShellCommand(subs).opaque).toBe(true);
  });

  it('shells nested beyond maxDepth are opaque', () => {
    let text = 'rm x';
    for (let i = 0; i < 10; i++) text = `sh -c ${JSON.stringify(text).replace(/\$/g, '\\$')}`;
    const result = parseShellCommand(text);
    expect(result.opaque).toBe(true);
    expect(result.reasons.join('\n')).toMatch(/deeper than 8/);
    expect(parseShellCommand(text, { maxDepth: 12 }).commands).toContainEqual(['rm', 'x']);
  });
});
