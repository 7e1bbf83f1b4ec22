// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are shell command lines, where ${…} is shell syntax
/**
 * Security regression suite: commands hidden from a deny rule, through the real OpenSSH client, the
 * gateway and a real sshd running locally. Each attack must be refused (exit 126 with the
 * gateway's message) and must have done nothing: the file it aims at still exists on the host, and
 * the HTTP server a hidden `curl` aims at was never asked.
 *
 * Attack classes:
 * - spelling the program differently: quotes (`r''m`, `"r"m`), backslashes (`\rm`, `r\<newline>m`),
 *   ANSI-C quoting (`$'\x72m'`), absolute paths (`/bin/rm`), globs (`/bin/r?`);
 * - wrappers: `command`, `exec`, `env`, `nice`, `sudo`, `xargs`, `find -exec`/`-delete`, `pkexec`,
 *   `unbuffer`, tmux, `at`, socat `EXEC:`;
 * - nesting and lists: `sh -c`, `bash -c`, `;`, `&&`, `||`, `|`, subshells, `$( )`, backticks,
 *   process substitution, here-documents and here-strings into a shell, `echo … | sh`, functions,
 *   `trap`;
 * - the program name from an expansion: `bash -c "$(echo cm0= | base64 -d)"`, `${IFS}`, `$x`,
 *   brace expansion — opaque, held by the policy's opaque rule (no approver answers here);
 * - assignments: `FOO=1 rm`, `PATH=… rm`, `LD_PRELOAD=…`;
 * - bash's second evaluation of quoted text: `x='a[$(rm f)]'; (( x ))`, `test -v`, `printf -v`,
 *   `declare -a 'x=($(rm f))'`, `${x@P}` (found by this suite and fixed in the shell parser);
 * - data in the session environment read as code: `LC_X='a[$(rm f)]'` sent with `SendEnv`, then
 *   `(( LC_X ))` (found by this suite; the gateway now passes only locale-shaped values).
 *
 * Advisory context: command-filter bypasses through shell syntax are the class behind
 * CVE-2021-3156-style wrapper abuse and the sshpiper/Teleport "command restriction is not a
 * sandbox" caveats; the parser's contract (docs/policy.md) is that every program is seen or the
 * command is opaque.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { RuleConfig } from '@gatehouse/policy';
import { MemorySessionLog } from '@gatehouse/session-log';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, dataOf, endedSession, type SshGateway, startSshGateway } from '../support/ssh-gateway.js';

const RULES: RuleConfig[] = [
  {
    id: 'hold-opaque',
    action: 'review',
    message: 'commands the gateway cannot read need a human',
    shell: { opaque: true },
  },
  { id: 'no-rm', action: 'deny', message: 'no deleting', shell: { programs: ['rm', 'unlink'] } },
  {
    id: 'no-find-delete',
    action: 'deny',
    message: 'no deleting',
    shell: { programs: ['find'], args: ['-delete'] },
  },
  { id: 'no-curl', action: 'deny', message: 'no fetching', shell: { programs: ['curl'] } },
];

let gw: SshGateway;
let log: MemorySessionLog;
let victims: string;
let http: Server;
let httpPort: number;
let httpHits = 0;

beforeAll(async () => {
  log = new MemorySessionLog();
  gw = await startSshGateway({ log, rules: RULES });
  victims = join(gw.sshd.home, `victims-${process.pid}`);
  mkdirSync(victims, { recursive: true });
  execFileSync('chown', [`${gw.sshd.user}:${gw.sshd.user}`, victims]);
  http = createServer((_req, res) => {
    httpHits++;
    res.end('fetched\n');
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  httpPort = (http.address() as AddressInfo).port;
});

afterAll(async () => {
  await gw?.stop();
  await new Promise((r) => http?.close(r));
  if (victims !== undefined) rmSync(victims, { recursive: true, force: true });
});

/** A file the test user owns and could delete, for one attack. */
function victim(name: string): string {
  const file = join(victims, name);
  writeFileSync(file, 'keep me');
  execFileSync('chown', [`${gw.sshd.user}:${gw.sshd.user}`, file]);
  return file;
}

async function exec(command: string) {
  const mark = log.events.at(-1)?.seq ?? 0;
  const r = await collect(
    gw.spawn('ssh', [...gw.clientOptions(), '-p', String(gw.port), 'deploy@127.0.0.1', command]),
  );
  return { ...r, events: await endedSession(log, mark) };
}

/** Runs `command` (VICTIM stands for the victim file) and checks it was refused and did nothing. */
async function refusedDelete(name: string, command: string) {
  const file = victim(name);
  const r = await exec(command.replaceAll('VICTIM', file));
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(126);
  expect(r.stderr).toMatch(/gatehouse: (denied|held for review): /);
  expect(existsSync(file), `${command} deleted the file`).toBe(true);
  const decisions = dataOf(r.events, 'decision');
  expect(decisions.some((d) => d['action'] === 'deny' || d['action'] === 'review')).toBe(true);
  return r;
}

/** The control: the same host, an allowed command, really deletes (so the refusals mean something). */
describe('control', () => {
  it('an allowed command reaches the host and acts on it (mv is not denied)', async () => {
    const file = victim('control');
    const r = await exec(`mv ${file} ${file}.moved && ls ${victims}`);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(file)).toBe(false);
    expect(existsSync(`${file}.moved`)).toBe(true);
  });

  it('rm itself is refused with exit 126, the rule named, and nothing deleted', async () => {
    const r = await refusedDelete('plain', 'rm -f VICTIM');
    expect(r.stderr).toContain('gatehouse: denied: no deleting (rule no-rm)');
  });
});

describe('spelling rm differently', () => {
  it.each([
    ['empty-single-quotes', "r''m VICTIM"],
    ['double-quoted-letter', '"r"m VICTIM'],
    ['leading-backslash', '\\rm VICTIM'],
    ['inner-backslash', 'r\\m VICTIM'],
    ['backslash-newline', 'r\\\nm VICTIM'],
    ['ansi-c-hex', "$'\\x72m' VICTIM"],
    ['ansi-c-octal', "$'\\162\\155' VICTIM"],
    ['absolute-path', '/bin/rm VICTIM'],
    ['dot-dot-path', '/usr/bin/../bin/rm VICTIM'],
    ['glob-question-mark', '/bin/r? VICTIM'],
    ['glob-bracket', '/usr/bin/r[m] VICTIM'],
    ['brace-expansion', '{r,}m VICTIM'],
  ])('%s: %j', async (name, command) => {
    await refusedDelete(name, command);
  });
});

describe('wrappers', () => {
  it.each([
    ['command', 'command rm VICTIM'],
    ['command-p', 'command -p rm VICTIM'],
    ['exec', 'exec rm VICTIM'],
    ['builtin-exec', 'builtin exec rm VICTIM'],
    ['env', 'env rm VICTIM'],
    ['env-u', '/usr/bin/env -u HOME rm VICTIM'],
    ['nice', 'nice -n 5 -- rm VICTIM'],
    ['timeout', 'timeout 5 rm VICTIM'],
    ['xargs', 'echo VICTIM | xargs rm'],
    ['xargs-I', 'echo VICTIM | xargs -I{} rm {}'],
    ['find-delete', 'find VICTIM -delete'],
    ['find-exec', 'find VICTIM -exec rm {} \\;'],
    ['find-exec-sh', 'find VICTIM -exec sh -c \'rm "$1"\' _ {} \\;'],
    ['pkexec', 'pkexec rm VICTIM'],
    ['unbuffer', 'unbuffer rm VICTIM'],
    ['tmux', "tmux -S /tmp/gh-tmux-$$ new -d 'rm VICTIM'; sleep 1"],
    ['at', "at now <<<'rm VICTIM'"],
    ['socat', "socat - EXEC:'rm VICTIM' </dev/null"],
  ])('%s: %j', async (name, command) => {
    await refusedDelete(name, command);
  });
});

describe('nesting, lists and substitutions', () => {
  it.each([
    ['sh-c', "sh -c 'rm VICTIM'"],
    ['bash-c-nested', `bash -c 'bash -c "rm VICTIM"'`],
    ['bash-lc', "bash -lc 'rm VICTIM'"],
    ['semicolon', 'true; rm VICTIM'],
    ['and', 'true && rm VICTIM'],
    ['or', 'false || rm VICTIM'],
    ['pipe', 'echo | rm VICTIM'],
    ['subshell', '(rm VICTIM)'],
    ['group', '{ rm VICTIM; }'],
    ['dollar-paren', 'echo $(rm VICTIM)'],
    ['backticks', 'echo `rm VICTIM`'],
    ['process-substitution', 'cat <(rm VICTIM)'],
    ['echo-into-sh', 'echo rm VICTIM | sh'],
    ['printf-into-bash', "printf 'rm VICTIM' | bash"],
    ['here-doc-into-sh', 'sh <<EOF\nrm VICTIM\nEOF'],
    ['here-string-into-bash', "bash <<<'rm VICTIM'"],
    ['function', 'f() { rm VICTIM; }; f'],
    ['trap', "trap 'rm VICTIM' EXIT; true"],
    ['eval', 'eval "rm VICTIM"'],
    ['if', 'if true; then rm VICTIM; fi'],
    ['assignment-prefix', 'GH=1 rm VICTIM'],
  ])('%s: %j', async (name, command) => {
    await refusedDelete(name, command);
  });
});

describe('the program name hidden in data: opaque, held by the opaque rule', () => {
  it.each([
    ['base64', 'bash -c "$(echo cm0= | base64 -d) VICTIM"'],
    ['base64-into-sh', 'echo cm0gRg== | base64 -d | sh'],
    ['ifs-brace', 'rm${IFS}VICTIM'],
    ['ifs-reassigned', 'IFS=,; x=rm,VICTIM; $x'],
    ['variable', 'x=rm; $x VICTIM'],
    ['concatenated-variables', 'a=r; b=m; $a$b VICTIM'],
    ['default-expansion', '${x:-rm} VICTIM'],
    ['path-prefix', 'PATH=/tmp:$PATH rm VICTIM'],
    ['ld-preload', 'LD_PRELOAD=/tmp/x.so rm VICTIM'],
    ['hash-p', 'hash -p /bin/rm ls; ls VICTIM'],
  ])('%s: %j', async (name, command) => {
    const r = await refusedDelete(name, command);
    expect(r.stderr).toContain('held for review: commands the gateway cannot read need a human');
    const cmd = dataOf(r.events, 'command')[0] as { attributes: Record<string, unknown> };
    expect(cmd.attributes['opaque']).toBe(true);
  });
});

describe("bash's second evaluation of quoted text (found by this suite)", () => {
  it.each([
    ['arithmetic-subscript', "x='a[$(rm VICTIM)]'; (( x ))"],
    ['arithmetic-expansion', "x='a[$(rm VICTIM)]'; echo $((x))"],
    ['conditional-eq', "x='a[$(rm VICTIM)]'; [[ $x -eq 0 ]]"],
    ['test-v', "test -v 'a[$(rm VICTIM)]'"],
    ['conditional-v', "[[ -v 'a[$(rm VICTIM)]' ]]"],
    ['printf-v', "printf -v 'a[$(rm VICTIM)]' x"],
    ['read-name', "read 'a[$(rm VICTIM)]' <<<1"],
    ['let', "let 'a[$(rm VICTIM)]'"],
    ['declare-quoted-array', "declare -a 'x=($(rm VICTIM))'"],
    ['prompt-expansion', "x='$(rm VICTIM)'; echo ${x@P}"],
  ])('%s: %j', async (name, command) => {
    await refusedDelete(name, command);
  });

  it('LC_* sent from the client cannot carry code into the upstream arithmetic (SendEnv)', async () => {
    const file = victim('sendenv');
    const run = (value: string) =>
      collect(
        spawn(
          'ssh',
          [
            ...gw.clientOptions(),
            '-p',
            String(gw.port),
            '-o',
            'SendEnv=LC_GH',
            'deploy@127.0.0.1',
            '(( LC_GH )); echo "lc=[$LC_GH]"',
          ],
          { env: { ...gw.clientEnv(), LC_GH: value } },
        ),
      );
    // The variable does reach the upstream when it looks like a locale.
    expect((await run('C.UTF-8')).stdout).toBe('lc=[C.UTF-8]\n');
    const mark = log.events.at(-1)?.seq ?? 0;
    const r = await run(`a[$(rm ${file})]`);
    expect(r.stdout).toBe('lc=[]\n');
    expect(existsSync(file)).toBe(true);
    const events = await endedSession(log, mark);
    expect(dataOf(events, 'note')).toContainEqual(
      expect.objectContaining({
        refused: 'env',
        name: 'LC_GH',
        reason: 'the value is not a locale or terminal name',
      }),
    );
  });
});

describe('curl hidden the same ways never reaches the server', () => {
  it.each([
    ['backslash', 'c\\url -s URL'],
    ['quotes', "c'u'rl -s URL"],
    ['absolute', '/usr/bin/curl -s URL'],
    ['env', 'env curl -s URL'],
    ['sh-c', "sh -c 'curl -s URL'"],
    ['pipe-into-sh', "echo 'curl -s URL' | sh"],
    ['substitution', 'echo $(curl -s URL)'],
    ['variable', 'c=curl; $c -s URL'],
  ])('%s: %j', async (_name, command) => {
    const before = httpHits;
    const r = await exec(command.replaceAll('URL', `http://127.0.0.1:${httpPort}/`));
    expect(r.code, r.stderr).toBe(126);
    expect(r.stdout).not.toContain('fetched');
    expect(httpHits).toBe(before);
  });
});
