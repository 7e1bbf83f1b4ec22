/**
 * The SSH module end to end: the real OpenSSH `ssh` client logs in to an in-process gateway with a
 * development-issuer token (through SSH_ASKPASS), and the gateway relays to a real sshd. Policy is
 * the real engine, the log an in-memory one.
 */
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ApprovalBroker,
  type ApprovalOutcome,
  type ApprovalRequestInput,
  type StoredEvent,
  silentLogger,
} from '@gatehouse/core';
import { createRegistry, Gateway, type GatewayConnection } from '@gatehouse/gateway';
import { createTokenVerifier, type DevIssuer, loadOrCreateDevIssuer } from '@gatehouse/identity';
import { compilePolicy, type RuleConfig } from '@gatehouse/policy';
import { MemorySessionLog } from '@gatehouse/session-log';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sshModule } from '../protocols/ssh/src/index.js';
import { type Sshd, sshClientEnv, sshClientOptions, startSshd, writeAskpass } from './fixtures/sshd.js';

const DENY_RULES: RuleConfig[] = [
  { id: 'no-rm', action: 'deny', message: 'removing files is not allowed here', shell: { programs: ['rm'] } },
  { id: 'no-sftp-remove', action: 'deny', message: 'no deletes over sftp', shell: { sftpOps: ['remove'] } },
];
/** A shell line that asks for a secret without echo and prints its length. */
const READ_SECRET = "read -s -p 'Password: ' pw; echo got-$" + '{#pw}';
const FORWARD_RULE: RuleConfig = {
  id: 'local-forwards',
  action: 'allow',
  shell: { channels: ['port-forward'], destinations: ['127.0.0.1:*'] },
};

let sshd: Sshd;
let gateway: Gateway;
let log: MemorySessionLog;
let issuer: DevIssuer;
let token: string;
let work: string;
let askpass: string;
let victimDir: string;
let echo: Server;
let echoPort: number;
const ports: Record<string, number> = {};

/** Approvals the test answers by hand. */
class ManualApprovals implements ApprovalBroker {
  readonly pending: {
    input: ApprovalRequestInput;
    signal?: AbortSignal;
    answer: (o: ApprovalOutcome) => void;
  }[] = [];
  request(input: ApprovalRequestInput, signal?: AbortSignal): Promise<ApprovalOutcome> {
    return new Promise((answer) => {
      this.pending.push({ input, ...(signal === undefined ? {} : { signal }), answer });
      signal?.addEventListener('abort', () => answer({ status: 'expired', id: 'cancelled' }));
    });
  }
  async next() {
    for (let i = 0; i < 500 && this.pending.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    const next = this.pending.shift();
    if (next === undefined) throw new Error('no approval request');
    return next;
  }
}
const approvals = new ManualApprovals();

function settings(name: string, upstream: Record<string, unknown>, options: Record<string, unknown> = {}) {
  return {
    name,
    protocol: 'ssh' as const,
    listen: { host: '127.0.0.1', port: 0 },
    upstream,
    options: { handshakeTimeoutMs: 10_000, ...options },
  };
}

beforeAll(async () => {
  sshd = await startSshd();
  work = mkdtempSync(join(tmpdir(), 'gatehouse-ssh-e2e-'));
  const home = join(work, 'home');
  mkdirSync(home);
  askpass = writeAskpass(work);
  victimDir = join(sshd.home, 'victim');
  mkdirSync(victimDir, { recursive: true });
  execFileSync('chown', ['-R', `${sshd.user}:${sshd.user}`, victimDir]);
  const dataDir = join(work, 'data');
  issuer = await loadOrCreateDevIssuer(dataDir);
  token = await issuer.issue({ sub: 'agent-1', groups: ['agents'] });
  const verifier = createTokenVerifier({ providers: [], devIssuer: issuer });
  verifierForExtras = verifier;
  const upstream = { host: '127.0.0.1', port: sshd.port, user: sshd.user, privateKey: sshd.clientKey };
  const wrongKey = execFileSync('sh', [
    '-c',
    `ssh-keygen -q -t ed25519 -N '' -f ${join(work, 'other')} && cat ${join(work, 'other')}.pub`,
  ])
    .toString()
    .trim();
  const connections: GatewayConnection[] = [
    { settings: settings('ssh', { ...upstream, hostKey: sshd.hostKeyLine }) },
    { settings: settings('ssh-fwd', { ...upstream, hostKey: sshd.hostKeyFingerprint }) },
    { settings: settings('ssh-badkey', { ...upstream, hostKey: wrongKey }) },
    {
      settings: settings(
        'ssh-short',
        { ...upstream, hostKey: sshd.hostKeyLine },
        { handshakeTimeoutMs: 400 },
      ),
    },
    { settings: settings('ssh-review', { ...upstream, hostKey: sshd.hostKeyLine }) },
  ];
  const policy = compilePolicy({
    connections: [
      { name: 'ssh', policy: { rules: DENY_RULES, defaultAction: 'allow' } },
      { name: 'ssh-fwd', policy: { rules: [...DENY_RULES, FORWARD_RULE], defaultAction: 'allow' } },
      { name: 'ssh-badkey', policy: { rules: [], defaultAction: 'allow' } },
      { name: 'ssh-short', policy: { rules: [], defaultAction: 'allow' } },
      {
        name: 'ssh-review',
        policy: {
          rules: [
            {
              id: 'touch-needs-approval',
              action: 'review',
              message: 'touching files needs a human',
              shell: { programs: ['touch'] },
            },
          ],
          defaultAction: 'allow',
        },
      },
    ],
  });
  log = new MemorySessionLog();
  gateway = await Gateway.start({
    connections,
    modules: createRegistry([sshModule]),
    verifier,
    policy,
    log,
    approvals,
    logger: silentLogger,
    dataDir,
    drainTimeoutMs: 1_000,
  });
  for (const [name, address] of Object.entries(gateway.addresses())) ports[name] = address.port;
  echo = createServer((socket) => {
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  const address = echo.address();
  echoPort = typeof address === 'object' && address !== null ? address.port : 0;
});

afterAll(async () => {
  await gateway?.shutdown();
  await new Promise((r) => echo?.close(r));
  await sshd?.stop();
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
  if (victimDir !== undefined) rmSync(victimDir, { recursive: true, force: true });
});

let verifierForExtras: ReturnType<typeof createTokenVerifier>;

async function extraGateway(options: { maxConnectionsPerSource?: number; drainTimeoutMs?: number }) {
  const extraLog = new MemorySessionLog();
  const extra = await Gateway.start({
    connections: [
      {
        settings: settings('ssh-extra', {
          host: '127.0.0.1',
          port: sshd.port,
          user: sshd.user,
          privateKey: sshd.clientKey,
          hostKey: sshd.hostKeyLine,
        }),
      },
    ],
    modules: createRegistry([sshModule]),
    verifier: verifierForExtras,
    policy: compilePolicy({
      connections: [{ name: 'ssh-extra', policy: { rules: [], defaultAction: 'allow' } }],
    }),
    log: extraLog,
    approvals,
    logger: silentLogger,
    dataDir: join(work, 'data'),
    drainTimeoutMs: options.drainTimeoutMs ?? 1_000,
    maxConnectionsPerSource: options.maxConnectionsPerSource ?? 0,
  });
  ports['ssh-extra'] = extra.addresses()['ssh-extra']?.port ?? 0;
  return { gateway: extra, log: extraLog };
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function sshSpawn(connection: string, args: string[], tok = token): ChildProcessWithoutNullStreams {
  return spawn('ssh', [...sshClientOptions(), '-p', String(ports[connection]), ...args], {
    env: sshClientEnv(askpass, tok, join(work, 'home')),
  });
}

function collect(child: ChildProcessWithoutNullStreams, input?: string, timeoutMs = 20_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`ssh did not finish: stdout=${JSON.stringify(stdout)} stderr=${JSON.stringify(stderr)}`),
      );
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    if (input !== undefined) child.stdin.end(input);
  });
}

function ssh(
  connection: string,
  args: string[],
  opts: { token?: string; input?: string } = {},
): Promise<Run> {
  return collect(sshSpawn(connection, args, opts.token), opts.input ?? '');
}

/** Events of the last session whose session.start is after `since`. */
async function sessionEvents(since: number, connection = 'ssh'): Promise<StoredEvent[]> {
  for (let i = 0; i < 300; i++) {
    const starts = log.events.filter(
      (e) => e.type === 'session.start' && e.seq > since && e.data['connection'] === connection,
    );
    const id = starts.at(-1)?.sessionId;
    if (id !== undefined && log.eventsOf(id, 'session.end').length > 0) return log.eventsOf(id);
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('session did not end');
}

const lastSeq = () => log.events.at(-1)?.seq ?? 0;
const ofType = (events: StoredEvent[], type: string) =>
  events.filter((e) => e.type === type).map((e) => e.data);

describe('ssh exec', () => {
  it('runs an allowed command, passes its output and exit status, and logs it', async () => {
    const since = lastSeq();
    const r = await ssh('ssh', ['deploy@127.0.0.1', 'echo hi; echo oops >&2']);
    expect(r).toMatchObject({ code: 0, stdout: 'hi\n' });
    expect(r.stderr).toContain('oops');
    const events = await sessionEvents(since);
    expect(ofType(events, 'auth')[0]).toMatchObject({
      outcome: 'success',
      subject: 'agent-1',
      user: 'deploy',
      method: 'keyboard-interactive',
    });
    expect(ofType(events, 'command')).toContainEqual({
      kind: 'exec',
      text: 'echo hi; echo oops >&2',
      attributes: {
        channel: 'exec',
        commands: [
          ['echo', 'hi'],
          ['echo', 'oops'],
        ],
      },
    });
    expect(ofType(events, 'result')[0]).toMatchObject({
      status: 'ok',
      summary: 'exit 0',
      data: { exitStatus: 0, signal: null },
    });
    const output = ofType(events, 'output');
    expect(output).toContainEqual(expect.objectContaining({ stream: 'stdout', data: 'hi\n' }));
    expect(output).toContainEqual(expect.objectContaining({ stream: 'stderr', data: 'oops\n' }));
    expect(JSON.stringify(events)).not.toContain(token);
    expect(ofType(events, 'session.end')[0]).toMatchObject({ reason: 'client-closed' });
  });

  it('passes a failing exit status through', async () => {
    const r = await ssh('ssh', ['deploy@127.0.0.1', 'exit 3']);
    expect(r.code).toBe(3);
  });

  it('passes stdin through', async () => {
    const r = await ssh('ssh', ['deploy@127.0.0.1', 'wc -c'], { input: 'x'.repeat(100_000) });
    expect(r).toMatchObject({ code: 0 });
    expect(r.stdout.trim()).toBe('100000');
  });

  it('records output up to the limit, counts all of it, and notes the truncation', async () => {
    const since = lastSeq();
    const r = await ssh('ssh', ['deploy@127.0.0.1', 'head -c 5000000 /dev/zero | tr "\\0" x']);
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(5_000_000);
    const events = await sessionEvents(since);
    const recorded = ofType(events, 'output')
      .filter((o) => o['stream'] === 'stdout')
      .reduce((n, o) => n + String(o['data']).length, 0);
    expect(recorded).toBe(4 * 1024 * 1024);
    expect(ofType(events, 'note')).toContainEqual(
      expect.objectContaining({ recording: 'truncated', channel: 'exec', recordedBytes: 4 * 1024 * 1024 }),
    );
    expect(ofType(events, 'result')[0]).toMatchObject({ bytes: 5_000_000, data: { stdoutBytes: 5_000_000 } });
  });

  it('refuses a denied command with a message and exit status 126, and runs nothing', async () => {
    writeFileSync(join(victimDir, 'x'), 'keep me');
    execFileSync('chown', [`${sshd.user}:${sshd.user}`, join(victimDir, 'x')]);
    const since = lastSeq();
    const r = await ssh('ssh', ['deploy@127.0.0.1', `rm -rf ${victimDir}/x`]);
    expect(r.code).toBe(126);
    expect(r.stderr).toContain('gatehouse: denied: removing files is not allowed here (rule no-rm)');
    expect(existsSync(join(victimDir, 'x'))).toBe(true);
    const events = await sessionEvents(since);
    expect(ofType(events, 'decision')).toContainEqual(
      expect.objectContaining({ action: 'deny', rule: 'no-rm' }),
    );
    expect(ofType(events, 'result')).toEqual([]);
  });

  it('sees a command nested in sh -c', async () => {
    const r = await ssh('ssh', ['deploy@127.0.0.1', `sh -c 'cd /tmp && rm -rf ${victimDir}/x'`]);
    expect(r.code).toBe(126);
    expect(r.stderr).toContain('gatehouse: denied:');
    expect(existsSync(join(victimDir, 'x'))).toBe(true);
  });
});

describe('ssh authentication', () => {
  it('works with sshpass and the password method', async () => {
    const child = spawn(
      'sshpass',
      [
        '-e',
        'ssh',
        '-o',
        'PreferredAuthentications=password',
        ...sshClientOptions(),
        '-o',
        'LogLevel=ERROR',
      ].concat(['-p', String(ports['ssh']), 'deploy@127.0.0.1', 'echo via-sshpass']),
      { env: { PATH: process.env['PATH'], HOME: join(work, 'home'), SSHPASS: token } },
    );
    const r = await collect(child, '');
    expect(r.stderr).toBe('');
    expect(r).toMatchObject({ code: 0, stdout: 'via-sshpass\n' });
  });

  it('refuses a bad token, says why, logs the failure and disconnects after the allowed attempts', async () => {
    const since = lastSeq();
    const r = await ssh('ssh', ['deploy@127.0.0.1', 'echo hi'], { token: 'not-a-token' });
    expect(r.code).toBe(255);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('Authentication failed: malformed token');
    expect(r.stderr).toContain('No attempts left.');
    expect(r.stderr).not.toContain('please try again');
    const events = await sessionEvents(since);
    const auth = ofType(events, 'auth');
    expect(auth.length).toBeGreaterThanOrEqual(1);
    expect(auth.length).toBeLessThanOrEqual(3);
    for (const a of auth) expect(a).toMatchObject({ outcome: 'failure', user: 'deploy' });
    expect(ofType(events, 'command')).toEqual([]);
    expect(ofType(events, 'session.end')[0]).toMatchObject({ reason: 'auth-failed' });
    expect(JSON.stringify(events)).not.toContain('not-a-token');
  });

  it('refuses the session when the upstream host key does not match the pin', async () => {
    const since = lastSeq();
    const r = await ssh('ssh-badkey', ['deploy@127.0.0.1', 'echo hi']);
    expect(r.code).toBe(255);
    expect(r.stderr).toContain('gatehouse: upstream host key does not match the pinned key');
    expect(r.stdout).toBe('');
    const events = await sessionEvents(since, 'ssh-badkey');
    expect(ofType(events, 'session.end')[0]).toMatchObject({ reason: 'upstream-error' });
    expect(String(ofType(events, 'session.end')[0]?.['detail'])).toContain(sshd.hostKeyFingerprint);
  });
});

describe('ssh interactive shell', () => {
  it('runs allowed lines, refuses denied ones before they reach the shell, and says so', async () => {
    writeFileSync(join(victimDir, 'y'), 'keep me');
    execFileSync('chown', [`${sshd.user}:${sshd.user}`, join(victimDir, 'y')]);
    const since = lastSeq();
    const child = sshSpawn('ssh', ['-tt', 'deploy@127.0.0.1']);
    const done = collect(child);
    let seen = '';
    child.stdout.on('data', (d: Buffer) => {
      seen += d.toString();
    });
    const waitFor = async (text: string) => {
      for (let i = 0; i < 500 && !seen.includes(text); i++) await new Promise((r) => setTimeout(r, 20));
      expect(seen).toContain(text);
    };
    child.stdin.write('echo ok-$((40+2))\n');
    await waitFor('ok-42');
    child.stdin.write(`rm -rf ${victimDir}/y\n`);
    await waitFor('[gatehouse] denied: removing files is not allowed here (rule no-rm)');
    child.stdin.write('echo after-$((1+1))\n');
    await waitFor('after-2');
    // An answer typed at a no-echo prompt is judged but never logged in clear.
    child.stdin.write(`${READ_SECRET}\n`);
    await waitFor('Password: ');
    child.stdin.write('hunter2-secret\n');
    await waitFor('got-14');
    child.stdin.write('exit 4\n');
    const r = await done;
    expect(r.code).toBe(4);
    expect(existsSync(join(victimDir, 'y'))).toBe(true);
    const events = await sessionEvents(since);
    const commands = ofType(events, 'command');
    expect(commands[0]).toMatchObject({ kind: 'channel', text: 'shell', attributes: { channel: 'shell' } });
    const lines = commands.filter((c) => c['kind'] === 'shell-line').map((c) => c['text']);
    expect(lines).toEqual([
      'echo ok-$((40+2))',
      `rm -rf ${victimDir}/y`,
      'echo after-$((1+1))',
      READ_SECRET,
      '[REDACTED]',
      'exit 4',
    ]);
    expect(commands.find((c) => c['text'] === '[REDACTED]')?.['attributes']).toMatchObject({ echo: false });
    expect(JSON.stringify(events)).not.toContain('hunter2');
    expect(ofType(events, 'output').some((o) => o['stream'] === 'resize')).toBe(true);
    // Terminal input is not recorded by default (it carries passwords typed at prompts).
    expect(ofType(events, 'output').some((o) => o['stream'] === 'stdin')).toBe(false);
    expect(ofType(events, 'result').at(-1)).toMatchObject({ summary: 'exit 4' });
  });

  it('at a real terminal (tmux): the refused line is erased from the prompt and the notice shown', async () => {
    const tmux = (...args: string[]) =>
      execFileSync('tmux', ['-L', `gh-ssh-${process.pid}`, ...args], { encoding: 'utf8' });
    const env = sshClientEnv(askpass, token, join(work, 'home'));
    const command = [
      'env',
      `SSH_ASKPASS=${askpass}`,
      'SSH_ASKPASS_REQUIRE=force',
      `GATEHOUSE_TOKEN=${env['GATEHOUSE_TOKEN']}`,
      `HOME=${join(work, 'home')}`,
      'ssh',
      ...sshClientOptions(),
      '-o',
      'LogLevel=ERROR',
      '-p',
      String(ports['ssh']),
      'deploy@127.0.0.1',
    ];
    tmux('new-session', '-d', '-s', 'gh', '-x', '100', '-y', '20', '--', ...command);
    writeFileSync(join(victimDir, 'y'), 'keep me');
    execFileSync('chown', [`${sshd.user}:${sshd.user}`, join(victimDir, 'y')]);
    const screen = () => tmux('capture-pane', '-p', '-t', 'gh');
    const waitFor = async (text: string) => {
      for (let i = 0; i < 300 && !screen().includes(text); i++) await new Promise((r) => setTimeout(r, 20));
      return screen();
    };
    try {
      await waitFor('$');
      tmux('send-keys', '-t', 'gh', '-l', `rm -rf ${victimDir}/y`);
      tmux('send-keys', '-t', 'gh', 'Enter');
      await waitFor('[gatehouse] denied');
      tmux('send-keys', '-t', 'gh', '-l', 'echo typed-$((2*3))');
      tmux('send-keys', '-t', 'gh', 'Enter');
      const shown = await waitFor('typed-6');
      // The prompt line no longer shows the refused command; the notice follows it.
      const lines = shown.split('\n').map((l) => l.trimEnd());
      const notice = lines.findIndex((l) => l.startsWith('[gatehouse] denied:'));
      expect(lines[notice - 1]).toMatch(/\$$/);
      expect(shown).not.toContain('rm -rf');
      expect(shown).toContain('[gatehouse] denied: removing files is not allowed here (rule no-rm)');
      expect(shown).toContain('typed-6');
      expect(existsSync(join(victimDir, 'y'))).toBe(true);
    } finally {
      tmux('kill-server');
    }
  });

  it('judges the lines a shell reads from an exec channel without a pty (bash -s)', async () => {
    const since = lastSeq();
    const r = await ssh('ssh', ['deploy@127.0.0.1', 'bash -s'], {
      input: `echo one\nrm -rf ${victimDir}/y\necho two`,
    });
    expect(r.stdout).toBe('one\ntwo\n');
    expect(r.stderr).toContain('gatehouse: denied: removing files is not allowed here');
    expect(existsSync(join(victimDir, 'y'))).toBe(true);
    const events = await sessionEvents(since);
    const lines = ofType(events, 'command').filter((c) => c['kind'] === 'shell-line');
    expect(lines.map((c) => c['text'])).toEqual(['echo one', `rm -rf ${victimDir}/y`, 'echo two']);
    expect(lines[0]?.['attributes']).toMatchObject({ channel: 'exec' });
  });

  it('judges the lines of a script piped into a shell without a pty', async () => {
    const r = await ssh('ssh', ['-T', 'deploy@127.0.0.1'], {
      input: `echo one\nrm -rf ${victimDir}/y\necho two\n`,
    });
    expect(r.stdout).toBe('one\ntwo\n');
    expect(r.stderr).toContain('gatehouse: denied: removing files is not allowed here');
    expect(existsSync(join(victimDir, 'y'))).toBe(true);
  });
});

describe('ssh forwarding', () => {
  async function throughForward(connection: string): Promise<{ reply: string; stderr: string }> {
    const localPort = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const a = s.address();
        s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
      });
    });
    const child = sshSpawn(connection, [
      '-N',
      '-o',
      'ExitOnForwardFailure=yes',
      '-L',
      `${localPort}:127.0.0.1:${echoPort}`,
      'deploy@127.0.0.1',
    ]);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    try {
      let reply = '';
      for (let attempt = 0; attempt < 100; attempt++) {
        const result = await new Promise<string | undefined>((resolve) => {
          const socket = connect(localPort, '127.0.0.1');
          let got = '';
          // Refused: the client is not listening yet. Any other error ends the attempt.
          socket.on('error', (err: NodeJS.ErrnoException) =>
            resolve(err.code === 'ECONNREFUSED' ? undefined : got),
          );
          socket.on('connect', () => socket.write('ping\n'));
          socket.on('data', (d: Buffer) => {
            got += d.toString();
            if (got.includes('\n')) socket.end();
          });
          socket.on('close', () => resolve(got));
          setTimeout(() => socket.destroy(), 3_000);
        });
        if (result !== undefined) {
          reply = result;
          break;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      // Let the client print the refusal, if any.
      await new Promise((r) => setTimeout(r, 200));
      return { reply, stderr };
    } finally {
      child.kill('SIGTERM');
    }
  }

  it('denies port forwarding unless a rule allows it', async () => {
    const since = lastSeq();
    const denied = await throughForward('ssh');
    expect(denied.reply).toBe('');
    expect(denied.stderr).toContain(
      'open failed: administratively prohibited: gatehouse: denied: forwarding is denied unless a rule allows',
    );
    const events = await sessionEvents(since);
    expect(ofType(events, 'command')).toContainEqual({
      kind: 'channel',
      text: `direct-tcpip 127.0.0.1:${echoPort}`,
      attributes: { channel: 'port-forward', destination: `127.0.0.1:${echoPort}` },
    });
    expect(ofType(events, 'decision')).toContainEqual(expect.objectContaining({ action: 'deny' }));
  });

  it('relays a forward a rule allows, and logs its destination and bytes', async () => {
    const since = lastSeq();
    const allowed = await throughForward('ssh-fwd');
    expect(allowed.reply).toBe('ping\n');
    const events = await sessionEvents(since, 'ssh-fwd');
    expect(ofType(events, 'decision')).toContainEqual({ action: 'allow', rule: 'local-forwards' });
    expect(ofType(events, 'result')).toContainEqual(
      expect.objectContaining({ status: 'ok', data: { bytesToDestination: 5, bytesFromDestination: 5 } }),
    );
  });

  it('refuses agent forwarding', async () => {
    const agentDir = mkdtempSync(join(tmpdir(), 'gatehouse-agent-'));
    const sock = join(agentDir, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 20));
      const since = lastSeq();
      const child = spawn(
        'ssh',
        [
          ...sshClientOptions(),
          '-p',
          String(ports['ssh']),
          '-A',
          'deploy@127.0.0.1',
          'echo "agent=[$SSH_AUTH_SOCK]"',
        ],
        { env: { ...sshClientEnv(askpass, token, join(work, 'home')), SSH_AUTH_SOCK: sock } },
      );
      const r = await collect(child, '');
      expect(r).toMatchObject({ code: 0, stdout: 'agent=[]\n' });
      const events = await sessionEvents(since);
      expect(ofType(events, 'note')).toContainEqual(expect.objectContaining({ refused: 'agent-forward' }));
    } finally {
      agent.kill('SIGTERM');
      rmSync(agentDir, { recursive: true, force: true });
    }
  });
});

describe('ssh sftp', () => {
  it('relays allowed operations, refuses denied ones per path, and logs each', async () => {
    const local = join(work, 'upload.txt');
    // Several MiB: OpenSSH pipelines 255 KiB writes, so packets span and share channel data events.
    const content = randomBytes(3 * 1024 * 1024 + 17);
    writeFileSync(local, content);
    chmodSync(local, 0o644);
    const back = join(work, 'downloaded.bin');
    writeFileSync(join(victimDir, 'z'), 'keep me');
    execFileSync('chown', [`${sshd.user}:${sshd.user}`, join(victimDir, 'z')]);
    const since = lastSeq();
    const child = spawn('sftp', [...sshClientOptions(), '-P', String(ports['ssh']), 'deploy@127.0.0.1'], {
      env: sshClientEnv(askpass, token, join(work, 'home')),
    });
    const r = await collect(
      child,
      `put ${local} ${victimDir}/uploaded.txt\nrm ${victimDir}/z\nget ${victimDir}/uploaded.txt ${back}\nls ${victimDir}\nbye\n`,
    );
    expect(r.stdout).toContain('uploaded.txt');
    expect(readFileSync(join(victimDir, 'uploaded.txt')).equals(content)).toBe(true);
    expect(readFileSync(back).equals(content)).toBe(true);
    expect(existsSync(join(victimDir, 'z'))).toBe(true);
    const events = await sessionEvents(since);
    const commands = ofType(events, 'command');
    expect(commands).toContainEqual(expect.objectContaining({ kind: 'channel', text: 'subsystem sftp' }));
    expect(commands).toContainEqual(
      expect.objectContaining({
        kind: 'sftp',
        attributes: expect.objectContaining({ sftpOp: 'write', path: `${victimDir}/uploaded.txt` }),
      }),
    );
    expect(commands).toContainEqual(
      expect.objectContaining({
        kind: 'sftp',
        attributes: expect.objectContaining({ sftpOp: 'remove', path: `${victimDir}/z` }),
      }),
    );
    expect(ofType(events, 'decision')).toContainEqual(
      expect.objectContaining({ action: 'deny', rule: 'no-sftp-remove' }),
    );
    expect(ofType(events, 'result')).toContainEqual(
      expect.objectContaining({ summary: 'closed', data: { bytesRead: 0, bytesWritten: content.length } }),
    );
    expect(ofType(events, 'result')).toContainEqual(
      expect.objectContaining({ summary: 'closed', data: { bytesRead: content.length, bytesWritten: 0 } }),
    );
  });
});

describe('ssh upstream failure', () => {
  it('ends the client session with a message and a failing status when the upstream dies', async () => {
    const since = lastSeq();
    const child = sshSpawn('ssh', ['deploy@127.0.0.1', 'echo started; sleep 30']);
    const done = collect(child, '', 30_000);
    let seen = '';
    child.stdout.on('data', (d: Buffer) => {
      seen += d.toString();
    });
    for (let i = 0; i < 500 && !seen.includes('started'); i++) await new Promise((r) => setTimeout(r, 20));
    sshd.killSessions();
    const r = await done;
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/gatehouse: the upstream (closed the connection|connection failed)/);
    const events = await sessionEvents(since);
    expect(ofType(events, 'session.end')[0]?.['reason']).toMatch(/^upstream-(closed|error)$/);
  });
});

describe('ssh transport and lifecycle', () => {
  it('negotiates strict key exchange (Terrapin) and refuses legacy algorithms', async () => {
    const r = await ssh('ssh', ['-vvv', 'deploy@127.0.0.1', 'true']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('will use strict KEX ordering');
    expect(r.stderr).toMatch(/kex: algorithm: (curve25519-sha256|sntrup|ecdh)/);
    const cbc = await ssh('ssh', ['-o', 'Ciphers=aes128-cbc', 'deploy@127.0.0.1', 'true']);
    expect(cbc.code).toBe(255);
    expect(cbc.stderr).toContain('no matching cipher found');
    const sha1 = await ssh('ssh', [
      '-o',
      'MACs=hmac-sha1',
      '-o',
      'Ciphers=aes128-ctr',
      'deploy@127.0.0.1',
      'true',
    ]);
    expect(sha1.stderr).toContain('no matching MAC found');
  });

  it('disconnects a client that does not authenticate in time, and logs why', async () => {
    const since = lastSeq();
    const socket = connect(ports['ssh-short'] as number, '127.0.0.1');
    socket.on('error', () => {});
    socket.on('data', () => {});
    const closed = new Promise((r) => socket.once('close', r));
    socket.write('SSH-2.0-SlowClient\r\n');
    await closed;
    const events = await sessionEvents(since, 'ssh-short');
    expect(ofType(events, 'session.end')[0]).toMatchObject({
      reason: 'handshake-timeout',
      detail: 'no authentication within 400ms',
    });
  });

  it('holds a command for review and runs it once approved', async () => {
    const target = join(victimDir, 'approved');
    const since = lastSeq();
    const child = sshSpawn('ssh-review', ['deploy@127.0.0.1', `touch ${target} && echo done`]);
    const done = collect(child, '');
    const request = await approvals.next();
    expect(request.input.command).toMatchObject({ kind: 'exec', text: `touch ${target} && echo done` });
    expect(existsSync(target)).toBe(false);
    request.answer({ status: 'approved', id: 'req-1', approver: 'lead' });
    const r = await done;
    expect(r).toMatchObject({ code: 0, stdout: 'done\n' });
    expect(r.stderr).toContain('gatehouse: held for review: touching files needs a human');
    expect(existsSync(target)).toBe(true);
    await sessionEvents(since, 'ssh-review');
  });

  it('cancels a held review when the client goes away, and refuses a denied one', async () => {
    const child = sshSpawn('ssh-review', ['deploy@127.0.0.1', 'touch /tmp/never']);
    const done = collect(child, '');
    const request = await approvals.next();
    child.kill('SIGTERM');
    await done;
    for (let i = 0; i < 200 && request.signal?.aborted !== true; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(request.signal?.aborted).toBe(true);

    const denied = collect(sshSpawn('ssh-review', ['deploy@127.0.0.1', 'touch /tmp/never']), '');
    (await approvals.next()).answer({ status: 'denied', id: 'req-2', approver: 'lead', reason: 'not today' });
    const r = await denied;
    expect(r.code).toBe(126);
    expect(r.stderr).toContain('gatehouse: denied: request req-2 was denied by lead: not today');
  });

  it('tells a refused client why (too many connections) and tells open sessions about a shutdown', async () => {
    const extra = await extraGateway({ maxConnectionsPerSource: 1, drainTimeoutMs: 300 });
    try {
      const first = sshSpawn('ssh-extra', ['deploy@127.0.0.1', 'echo started; sleep 30']);
      const firstDone = collect(first, '', 30_000);
      let seen = '';
      first.stdout.on('data', (d: Buffer) => {
        seen += d.toString();
      });
      for (let i = 0; i < 500 && !seen.includes('started'); i++) await new Promise((r) => setTimeout(r, 20));
      const second = await ssh('ssh-extra', ['deploy@127.0.0.1', 'true']);
      expect(second.code).toBe(255);
      expect(second.stderr).toContain('gatehouse: too many connections from 127.0.0.1');
      await extra.gateway.shutdown();
      const r = await firstDone;
      expect(r.code).toBe(255);
      expect(r.stderr).toContain('gatehouse: the gateway is shutting down');
      const ends = extra.log.events.filter((e) => e.type === 'session.end').map((e) => e.data['reason']);
      expect(ends).toContain('gateway-shutdown');
    } finally {
      await extra.gateway.shutdown();
    }
  });
});
