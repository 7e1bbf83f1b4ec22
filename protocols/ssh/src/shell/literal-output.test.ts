import { describe, expect, it } from 'vitest';
import { literalOutput, printfOutput } from './literal-output.js';
import { ParseContext, Parser } from './parser.js';

function outputOf(text: string): string | undefined {
  const script = Parser.parse(text, new ParseContext(false));
  const command = script.pipelines[0]?.commands[0];
  return command === undefined ? undefined : literalOutput(command)?.text;
}

describe('printfOutput', () => {
  // Expected values checked against bash 5.2's printf builtin.
  it.each([
    ['%s\\n', ['rm -rf /x'], 'rm -rf /x\n'],
    ['%s %s\\n', ['rm', 'a', 'rm', 'b'], 'rm a\nrm b\n'],
    ['%s\\n', [], '\n'],
    ['no directives\\n', ['ignored'], 'no directives\n'],
    ['%d-%i\\n', ['42', '-7'], '42--7\n'],
    ['%d\\n', [], '0\n'],
    ['%c%c\\n', ['rx', 'mx'], 'rm\n'],
    ['%b\\n', ['rm\\tx'], 'rm\tx\n'],
    ['%b', ['r\\0155'], 'rm'],
    ['100%%\\n', [], '100%\n'],
    ['\\162\\155\\n', [], 'rm\n'],
    ['\\x72m\\c kept', [], 'rm\\c kept'],
    ['%b|%s', ['a\\cb', 'x'], 'a'],
  ])('printf %j %j', (format, args, out) => {
    expect(printfOutput(format, args)).toBe(out);
  });

  it('gives up on directives it does not emulate', () => {
    expect(printfOutput('%5s', ['x'])).toBeUndefined();
    expect(printfOutput('%q', ['x'])).toBeUndefined();
    expect(printfOutput('%x', ['1'])).toBeUndefined();
    expect(printfOutput('%d', ['abc'])).toBeUndefined();
    expect(printfOutput('%', [])).toBeUndefined();
  });

  it('bounds output built by reusing the format', () => {
    expect(
      printfOutput(
        `${'A'.repeat(100_000)}%s`,
        Array.from({ length: 100 }, () => 'x'),
      ),
    ).toBeUndefined();
  });
});

describe('literalOutput', () => {
  it.each([
    ['echo rm -rf /x', 'rm -rf /x\n'],
    ["echo 'rm -rf /x'", 'rm -rf /x\n'],
    ['echo -n rm', 'rm'],
    ['/bin/echo rm', 'rm\n'],
    ["printf 'rm %s\\n' x", 'rm x\n'],
    ['printf -v var x', ''],
    ["cat <<'EOF'\nrm x\nEOF", 'rm x\n'],
    ['cat <<< "rm y"', 'rm y\n'],
    ['cat - <<EOF\nrm z\nEOF', 'rm z\n'],
  ])('%j', (text, out) => {
    expect(outputOf(text)).toBe(out);
  });

  it('returns both readings of echo with backslashes, since shells disagree', () => {
    expect(outputOf("echo 'rm\\tx'")).toBe('rm\\tx\nrm\tx\n');
  });

  it.each([
    ['echo $x'],
    ['echo "$(cat f)"'],
    ['printf "$fmt"'],
    ['printf'],
    ['cat file'],
    ['cat'],
    ['cat < file'],
    ['echo rm > /dev/null'],
    ['ls'],
  ])('%j is unknown', (text) => {
    expect(outputOf(text)).toBeUndefined();
  });
});
