/**
 * What an OpenSSH client may ask of a session besides a command, end to end through the gateway
 * to a real sshd: environment variables (only LANG, LC_* and TERM pass, even where the upstream's
 * AcceptEnv would take more), X11 forwarding (refused and logged), and an expired token (refused
 * with the reason, logged, nothing run).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOrCreateDevIssuer } from '@gatehouse/identity';
import { MemorySessionLog } from '@gatehouse/session-log';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sshClientOptions } from './fixtures/sshd.js';
import { dataOf, endedSession, type SshGateway, startSshGateway } from './support/ssh-gateway.js';

let gw: SshGateway;
let log: MemorySessionLog;
let keyFile: string;
const since = () => log.events.at(-1)?.seq ?? 0;

beforeAll(async () => {
  log = new MemorySessionLog();
  // The upstream would accept GH_* too: whatever stops those variables is the gateway.
  gw = await startSshGateway({ log, rules: [], sshd: { acceptEnv: 'LANG LC_* GH_*' } });
  keyFile = join(gw.work, 'direct_ed25519');
  writeFileSync(keyFile, gw.sshd.clientKey, { mode: 0o600 });
});

afterAll(async () => {
  await gw?.stop();
});

function ssh(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; token?: string; direct?: boolean; verbose?: boolean } = {},
) {
  const target = opts.direct
    ? [
        '-F',
        '/dev/null',
        '-o',
        'StrictHostKeyChecking=no',
        '-o',
        'UserKnownHostsFile=/dev/null',
        '-o',
        'BatchMode=yes',
        '-o',
        'IdentitiesOnly=yes',
        '-o',
        'LogLevel=ERROR',
        '-i',
        keyFile,
        '-p',
        String(gw.sshd.port),
      ]
    : // At LogLevel ERROR OpenSSH keeps the gateway's keyboard-interactive messages to itself.
      [...(opts.verbose ? sshClientOptions() : gw.clientOptions()), '-p', String(gw.port)];
  const child = spawn('ssh', [...target, ...args], { env: { ...gw.clientEnv(opts.token), ...opts.env } });
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end();
  });
}

describe('ssh session requests', () => {
  it('passes LANG, LC_* and TERM upstream and refuses every other variable', async () => {
    const env = { LANG: 'C.UTF-8', LC_TIME: 'POSIX', GH_SECRET: 'leaked' };
    const args = [
      '-tt',
      '-o',
      'SendEnv=LANG LC_TIME GH_SECRET',
      '-o',
      'SetEnv=GH_INJECTED=1 LC_PAPER=C',
      `${gw.sshd.user}@127.0.0.1`,
      'echo "lang=$LANG time=$LC_TIME paper=$LC_PAPER term=$TERM secret=[$GH_SECRET] injected=[$GH_INJECTED]"',
    ];
    // Control: straight to the upstream, its AcceptEnv lets the GH_* variables in.
    const direct = await ssh(args, { env, direct: true });
    expect(direct.code, direct.stderr).toBe(0);
    expect(direct.stdout).toContain('secret=[leaked] injected=[1]');
    const mark = since();
    const r = await ssh(args, { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/lang=C\.UTF-8 time=POSIX paper=C term=\S+ secret=\[\] injected=\[\]/);
    expect(r.stdout).not.toContain('term= ');
    await endedSession(log, mark);
  });

  it('refuses X11 forwarding and logs the refusal; the command still runs', async () => {
    const mark = since();
    const r = await ssh(['-X', 'deploy@127.0.0.1', 'echo "display=[$DISPLAY]"'], {});
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('display=[]\n');
    const events = await endedSession(log, mark);
    expect(dataOf(events, 'note')).toContainEqual(expect.objectContaining({ refused: 'x11' }));
  });

  it('refuses an expired token with the reason, logs the failure and runs nothing', async () => {
    const past = { now: () => new Date(Date.now() - 2 * 3_600_000) };
    const stale = await loadOrCreateDevIssuer(join(gw.work, 'data'), { clock: past });
    const expired = await stale.issue({ sub: 'agent-1', groups: ['agents'], ttl: 60_000 });
    const mark = since();
    const r = await ssh(['deploy@127.0.0.1', 'echo should-not-run'], { token: expired, verbose: true });
    expect(r.code).toBe(255);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/Authentication failed: token (has )?expired/);
    const events = await endedSession(log, mark);
    for (const a of dataOf(events, 'auth')) expect(a).toMatchObject({ outcome: 'failure', user: 'deploy' });
    expect(dataOf(events, 'command')).toEqual([]);
    expect(dataOf(events, 'session.end')[0]).toMatchObject({ reason: 'auth-failed' });
    expect(JSON.stringify(events)).not.toContain(expired);
  });
});
