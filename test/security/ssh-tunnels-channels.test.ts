/**
 * Security regression suite: what an SSH client can ask for besides a judged command, through the
 * real OpenSSH client, the gateway and a real sshd that would allow all of it (AllowTcpForwarding
 * yes, AllowAgentForwarding yes, an sftp subsystem, AcceptEnv for the dangerous variables). Each
 * must be refused by the gateway, logged, and must not have reached its target.
 *
 * Attack classes:
 * - port forwarding: `-L`, `-R`, `-D` (SOCKS), `-W` (stdio forward, direct-tcpip), `-N` sessions that
 *   only forward — denied by default (rule builtin:ssh-forwarding) and logged;
 * - another spelling of a denied destination: `127.1`, `0x7f000001`, `2130706433`,
 *   `::ffff:127.0.0.1` reach 127.0.0.1 through getaddrinfo (SSRF-style filter bypass; found by this
 *   suite: the gateway now judges and forwards the canonical address);
 * - Unix socket forwarding (`-L`/`-R` with a socket path, direct-streamlocal@openssh.com,
 *   streamlocal-forward@openssh.com), tun devices (`-w`, tun@openssh.com);
 * - agent forwarding (`-A`) and X11 (`-X`): refused, logged;
 * - SFTP refused by policy: the sftp subsystem, `scp` (SFTP) and legacy `scp -O`, and an SFTP server
 *   started as an exec command (`sftp -s /usr/lib/openssh/sftp-server`, found by this suite: it
 *   bypassed every SFTP rule; now refused), arbitrary subsystem names;
 * - environment: `LD_PRELOAD`, `BASH_ENV`, `PATH` and others through `SendEnv`/`SetEnv` refused; only
 *   LANG, LC_* and TERM pass.
 *
 * Advisories: CVE-2023-51385 (OpenSSH: shell metacharacters in names reaching a shell), the
 * OpenSSH agent-forwarding remote code execution CVE-2023-38408 (why `-A` must stay refused),
 * Teleport's and Boundary's guidance that port forwarding be an explicit permission.
 */
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { type AddressInfo, connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RuleConfig } from '@gatehouse/policy';
import { MemorySessionLog } from '@gatehouse/session-log';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeLoopbackPort, sshClientOptions } from '../fixtures/sshd.js';
import { collect, dataOf, endedSession, type SshGateway, startSshGateway } from '../support/ssh-gateway.js';

let gw: SshGateway;
let log: MemorySessionLog;
/** Never allowed: default-denied forwards aim here. */
let closed: { server: Server; port: number; hits: number };
/** Denied as 127.0.0.1, allowed by a broad rule under any other name. */
let guarded: { server: Server; port: number; hits: number };
let http: HttpServer;
let httpPort: number;
let httpHits = 0;
let remoteDir: string;

async function echoServer() {
  const state = { server: undefined as unknown as Server, port: 0, hits: 0 };
  state.server = createServer((socket) => {
    state.hits++;
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  await new Promise<void>((r) => state.server.listen(0, '127.0.0.1', r));
  state.port = (state.server.address() as AddressInfo).port;
  return state;
}

beforeAll(async () => {
  closed = await echoServer();
  guarded = await echoServer();
  http = createHttpServer((_q, res) => {
    httpHits++;
    res.end('reached\n');
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  httpPort = (http.address() as AddressInfo).port;
  const rules: RuleConfig[] = [
    { id: 'no-sftp', action: 'deny', message: 'no file transfer here', shell: { channels: ['sftp'] } },
    {
      id: 'guard-loopback',
      action: 'deny',
      message: 'not the loopback service',
      shell: { channels: ['port-forward'], destinations: [`127.0.0.1:${guarded.port}`] },
    },
    {
      id: 'any-host-guarded-port',
      action: 'allow',
      shell: { channels: ['port-forward'], destinations: [`*:${guarded.port}`] },
    },
  ];
  log = new MemorySessionLog();
  gw = await startSshGateway({ log, rules, sshd: { acceptEnv: 'LANG LC_* LD_* BASH_ENV PATH GH_*' } });
  remoteDir = join(gw.sshd.home, `tunnels-${process.pid}`);
  mkdirSync(remoteDir, { recursive: true });
  execFileSync('chown', [`${gw.sshd.user}:${gw.sshd.user}`, remoteDir]);
});

afterAll(async () => {
  await gw?.stop();
  for (const s of [closed?.server, guarded?.server, http]) await new Promise((r) => s?.close(r));
  if (remoteDir !== undefined) rmSync(remoteDir, { recursive: true, force: true });
});

const since = () => log.events.at(-1)?.seq ?? 0;

/** OpenSSH at its default log level, which prints why a channel open failed. */
function ssh(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcessWithoutNullStreams {
  return spawn('ssh', [...sshClientOptions(), '-p', String(gw.port), ...args], {
    env: { ...gw.clientEnv(), ...env },
  });
}

/** Runs a forwarding client until `probe` has tried the forward, then stops it. */
async function whileForwarding<T>(args: string[], probe: () => Promise<T>) {
  const child = ssh(['-N', ...args, 'deploy@127.0.0.1']);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise((r) => child.once('close', r));
  try {
    const result = await probe();
    await new Promise((r) => setTimeout(r, 200));
    return { result, stderr: () => stderr };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

/** Connects to a local listener (retrying until the client listens) and returns what came back. */
async function talk(target: number | string): Promise<string> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const reply = await new Promise<string | undefined>((resolve) => {
      const socket = typeof target === 'number' ? connect(target, '127.0.0.1') : connect(target);
      let got = '';
      socket.on('error', (err: NodeJS.ErrnoException) =>
        resolve(err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? undefined : got),
      );
      socket.on('connect', () => socket.write('ping\n'));
      socket.on('data', (d: Buffer) => {
        got += d.toString();
      });
      socket.on('close', () => resolve(got));
      setTimeout(() => socket.destroy(), 3_000);
    });
    if (reply !== undefined) return reply;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listened on ${target}`);
}

describe('port forwarding is denied unless a rule allows it, and logged', () => {
  it('-L: the connection is refused, the destination never reached, the decision logged', async () => {
    const mark = since();
    const local = await freeLoopbackPort();
    const { result, stderr } = await whileForwarding(['-L', `${local}:127.0.0.1:${closed.port}`], () =>
      talk(local),
    );
    expect(result).toBe('');
    expect(stderr()).toContain('administratively prohibited: gatehouse: denied: forwarding is denied');
    expect(closed.hits).toBe(0);
    const events = await endedSession(log, mark);
    expect(dataOf(events, 'command')).toContainEqual(
      expect.objectContaining({ kind: 'channel', text: `direct-tcpip 127.0.0.1:${closed.port}` }),
    );
    expect(dataOf(events, 'decision')).toContainEqual(
      expect.objectContaining({ action: 'deny', rule: 'builtin:ssh-forwarding' }),
    );
    // -N: the session forwarded only; no shell or exec was asked for.
    expect(dataOf(events, 'command').filter((c) => c['kind'] !== 'channel')).toEqual([]);
  });

  it('-W (stdio forward) is refused and the client exits 255', async () => {
    const r = await collect(ssh(['-W', `127.0.0.1:${closed.port}`, 'deploy@127.0.0.1']), 'ping\n');
    expect(r.code).toBe(255);
    expect(r.stderr).toContain('administratively prohibited: gatehouse: denied: forwarding is denied');
    expect(r.stdout).toBe('');
    expect(closed.hits).toBe(0);
  });

  it('-R: the upstream never listens, the client is told, the decision logged', async () => {
    const mark = since();
    const r = await collect(
      ssh(['-N', '-o', 'ExitOnForwardFailure=yes', '-R', `0:127.0.0.1:${closed.port}`, 'deploy@127.0.0.1']),
    );
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/remote port forwarding failed/i);
    const events = await endedSession(log, mark);
    expect(dataOf(events, 'command')).toContainEqual(
      expect.objectContaining({
        attributes: expect.objectContaining({ channel: 'port-forward', direction: 'remote' }),
      }),
    );
    expect(dataOf(events, 'decision')).toContainEqual(expect.objectContaining({ action: 'deny' }));
  });

  it('-D (SOCKS): a request through the proxy never reaches the server', async () => {
    const mark = since();
    const local = await freeLoopbackPort();
    const before = httpHits;
    const { result } = await whileForwarding(['-D', `127.0.0.1:${local}`], async () => {
      await talk(local).catch(() => '');
      return execFileSync('sh', [
        '-c',
        `curl -s -m 5 --socks5-hostname 127.0.0.1:${local} http://127.0.0.1:${httpPort}/ ; echo " exit=$?"`,
      ]).toString();
    });
    expect(result).not.toContain('reached');
    expect(httpHits).toBe(before);
    const events = await endedSession(log, mark);
    expect(dataOf(events, 'command')).toContainEqual(
      expect.objectContaining({ text: `direct-tcpip 127.0.0.1:${httpPort}` }),
    );
  });

  it('an allowed destination is relayed (the control for the next test)', async () => {
    const r = await collect(ssh(['-W', `localhost:${guarded.port}`, 'deploy@127.0.0.1']), 'ping\n');
    expect(r.stdout).toBe('ping\n');
  });

  it.each([
    ['127.0.0.1'],
    ['127.1'],
    ['127.0.1'],
    ['0x7f000001'],
    ['2130706433'],
    ['0177.0.0.1'],
    ['[::ffff:127.0.0.1]'],
  ])('a denied address spelled %s is judged as 127.0.0.1 and refused', async (host) => {
    const mark = since();
    const before = guarded.hits;
    const r = await collect(ssh(['-W', `${host}:${guarded.port}`, 'deploy@127.0.0.1']), 'ping\n');
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('gatehouse: denied: not the loopback service');
    expect(guarded.hits).toBe(before);
    const events = await endedSession(log, mark);
    expect(dataOf(events, 'decision')).toContainEqual({
      action: 'deny',
      rule: 'guard-loopback',
      message: 'not the loopback service',
    });
  });
});

describe('channels the gateway does not offer', () => {
  it('Unix socket forwarding (-L socket, -R socket) is refused and logged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-streamlocal-'));
    try {
      const mark = since();
      const localSock = join(dir, 'local.sock');
      const { result, stderr } = await whileForwarding(['-L', `${localSock}:/run/sshd.pid`], () =>
        talk(localSock),
      );
      expect(result).toBe('');
      expect(stderr()).toContain('open failed');
      const events = await endedSession(log, mark);
      expect(dataOf(events, 'note')).toContainEqual(expect.objectContaining({ refused: 'streamlocal' }));
      const remoteSock = join(remoteDir, 'remote.sock');
      const r = await collect(
        ssh([
          '-N',
          '-o',
          'ExitOnForwardFailure=yes',
          '-R',
          `${remoteSock}:127.0.0.1:${closed.port}`,
          'deploy@127.0.0.1',
        ]),
      );
      expect(r.code).toBe(255);
      expect(existsSync(remoteSock)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a tun device (-w, tun@openssh.com) is refused', async () => {
    const r = await collect(
      ssh([
        '-o',
        'Tunnel=point-to-point',
        '-o',
        'ExitOnForwardFailure=yes',
        '-w',
        'any:any',
        'deploy@127.0.0.1',
        'true',
      ]),
    );
    // The client did open its own tun device; the gateway refuses the channel type outright.
    expect(r.code).toBe(255);
    expect(r.stderr).toContain('channel 0: open failed: unknown channel type');
    expect(r.stderr).toContain('Tunnel forwarding failed');
  });

  it('agent forwarding (-A) is refused: the upstream gets no SSH_AUTH_SOCK; logged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-agent-'));
    const sock = join(dir, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 200 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 20));
      const mark = since();
      const r = await collect(
        ssh(['-A', 'deploy@127.0.0.1', 'echo "agent=[$SSH_AUTH_SOCK]"'], { SSH_AUTH_SOCK: sock }),
      );
      expect(r).toMatchObject({ code: 0, stdout: 'agent=[]\n' });
      const events = await endedSession(log, mark);
      expect(dataOf(events, 'note')).toContainEqual(expect.objectContaining({ refused: 'agent-forward' }));
    } finally {
      agent.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('X11 forwarding (-X) is refused: no DISPLAY upstream; logged', async () => {
    const mark = since();
    const r = await collect(ssh(['-X', 'deploy@127.0.0.1', 'echo "display=[$DISPLAY]"']));
    expect(r).toMatchObject({ code: 0, stdout: 'display=[]\n' });
    const events = await endedSession(log, mark);
    expect(dataOf(events, 'note')).toContainEqual(expect.objectContaining({ refused: 'x11' }));
  });

  it.each([['netconf'], ['sftp '], ['../sftp'], ['internal-sftp']])(
    'subsystem %j is refused and logged',
    async (name) => {
      const mark = since();
      const r = await collect(ssh(['-s', 'deploy@127.0.0.1', name]));
      expect(r.code).not.toBe(0);
      const events = await endedSession(log, mark);
      expect(dataOf(events, 'note')).toContainEqual(expect.objectContaining({ refused: 'subsystem' }));
    },
  );
});

describe('SFTP refused by policy stays refused, however it is reached', () => {
  const upload = () => {
    const local = join(gw.work, 'upload.txt');
    writeFileSync(local, 'payload');
    return local;
  };

  it('sftp (subsystem) is refused by the rule', async () => {
    const mark = since();
    const target = join(remoteDir, 'via-sftp.txt');
    const r = await collect(
      spawn('sftp', [...gw.clientOptions(), '-P', String(gw.port), 'deploy@127.0.0.1'], {
        env: gw.clientEnv(),
      }),
      `put ${upload()} ${target}\nbye\n`,
    );
    expect(r.code).not.toBe(0);
    expect(existsSync(target)).toBe(false);
    const events = await endedSession(log, mark);
    expect(dataOf(events, 'decision')).toContainEqual(
      expect.objectContaining({ action: 'deny', rule: 'no-sftp' }),
    );
  });

  it('scp -O (legacy protocol over exec) has its files refused by the same rule', async () => {
    const target = join(remoteDir, 'via-scp-O.txt');
    const r = await collect(
      spawn(
        'scp',
        ['-O', ...gw.clientOptions(), '-P', String(gw.port), upload(), `deploy@127.0.0.1:${target}`],
        {
          env: gw.clientEnv(),
        },
      ),
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('gatehouse: denied: no file transfer here');
    expect(existsSync(target)).toBe(false);
  });

  it.each([
    ['sftp -s PATH', ['-s', '/usr/lib/openssh/sftp-server']],
    ['sftp -s "exec PATH"', ['-s', 'exec /usr/lib/openssh/sftp-server']],
  ])('an SFTP server run as an exec command (%s) is refused', async (_label, opts) => {
    const mark = since();
    const target = join(remoteDir, 'via-exec.txt');
    const r = await collect(
      spawn('sftp', [...gw.clientOptions(), '-P', String(gw.port), ...opts, 'deploy@127.0.0.1'], {
        env: gw.clientEnv(),
      }),
      `put ${upload()} ${target}\nbye\n`,
    );
    expect(r.code).not.toBe(0);
    expect(existsSync(target)).toBe(false);
    const events = await endedSession(log, mark);
    expect(dataOf(events, 'note')).toContainEqual(
      expect.objectContaining({
        refused: 'exec',
        reason: 'an SFTP server started as a command cannot be judged',
      }),
    );
  });
});

describe('environment variables', () => {
  it('only LANG, LC_* and TERM pass; LD_PRELOAD, BASH_ENV, PATH and others are refused', async () => {
    const probe = join(remoteDir, 'bash-env-ran');
    const env = { LANG: 'C.UTF-8', LC_TIME: 'POSIX', LD_PRELOAD: '/tmp/evil.so', GH_X: 'leak' };
    const r = await collect(
      ssh(
        [
          '-tt',
          '-o',
          'SendEnv=LANG LC_TIME LD_PRELOAD GH_X',
          '-o',
          `SetEnv=BASH_ENV=${probe}.sh PATH=/tmp/evil LC_PAPER=C`,
          'deploy@127.0.0.1',
          'echo "lang=$LANG time=$LC_TIME paper=$LC_PAPER term=$TERM preload=[$LD_PRELOAD] bashenv=[$BASH_ENV] x=[$GH_X] path=$PATH"',
        ],
        env,
      ),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /lang=C\.UTF-8 time=POSIX paper=C term=\S+ preload=\[\] bashenv=\[\] x=\[\] path=/,
    );
    expect(r.stdout).not.toContain('/tmp/evil');
    expect(existsSync(probe)).toBe(false);
  });
});
