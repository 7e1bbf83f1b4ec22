/**
 * Public-key login end to end: the real OpenSSH `ssh` client authenticates to an in-process
 * gateway with a key bound in `options.publicKeys` (no token), and the gateway relays to a real
 * sshd. Policy is the real engine, the log an in-memory one.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type StoredEvent, silentLogger } from '@gatehouse/core';
import { createRegistry, Gateway, type GatewayConnection } from '@gatehouse/gateway';
import { createTokenVerifier, loadOrCreateDevIssuer } from '@gatehouse/identity';
import { compilePolicy } from '@gatehouse/policy';
import { MemorySessionLog } from '@gatehouse/session-log';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sshModule } from '../protocols/ssh/src/index.js';
import { type Sshd, startSshd } from './fixtures/sshd.js';

interface Key {
  readonly file: string;
  readonly line: string;
  readonly fingerprint: string;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let sshd: Sshd;
let gateway: Gateway;
let log: MemorySessionLog;
let work: string;
let bot: Key;
let stranger: Key;
let outsider: Key;
const ports: Record<string, number> = {};

function keygen(name: string, comment: string): Key {
  const file = join(work, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], {
    stdio: 'ignore',
  });
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${file}.pub`], {
    encoding: 'utf8',
  }).split(' ')[1] as string;
  return { file, line: readFileSync(`${file}.pub`, 'utf8').trim(), fingerprint };
}

beforeAll(async () => {
  sshd = await startSshd();
  work = mkdtempSync(join(tmpdir(), 'gatehouse-ssh-pk-e2e-'));
  mkdirSync(join(work, 'home'));
  bot = keygen('bot_ed25519', 'deploy-bot@ci');
  stranger = keygen('stranger_ed25519', 'stranger@nowhere');
  outsider = keygen('outsider_ed25519', 'outsider@elsewhere');
  const dataDir = join(work, 'data');
  const issuer = await loadOrCreateDevIssuer(dataDir);
  const upstream = {
    host: '127.0.0.1',
    port: sshd.port,
    user: sshd.user,
    privateKey: sshd.clientKey,
    hostKey: sshd.hostKeyLine,
  };
  const publicKeys = [
    { key: bot.line, subject: 'deploy-bot', groups: ['ops'] },
    { key: outsider.line, subject: 'outsider', groups: ['contractors'] },
  ];
  const connections: GatewayConnection[] = [
    {
      settings: {
        name: 'ssh-key',
        protocol: 'ssh',
        listen: { host: '127.0.0.1', port: 0 },
        upstream,
        options: { handshakeTimeoutMs: 10_000, publicKeys },
      },
      access: { groups: ['ops'], subjects: [] },
    },
  ];
  const policy = compilePolicy({
    connections: [
      {
        name: 'ssh-key',
        policy: {
          rules: [
            {
              id: 'bot-no-rm',
              action: 'deny',
              message: 'deploy-bot may not remove files',
              subjects: ['deploy-bot'],
              shell: { programs: ['rm'] },
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
    verifier: createTokenVerifier({ providers: [], devIssuer: issuer }),
    policy,
    log,
    approvals: { request: async () => ({ status: 'expired', id: 'none' }) },
    logger: silentLogger,
    dataDir,
    drainTimeoutMs: 1_000,
  });
  for (const [name, address] of Object.entries(gateway.addresses())) ports[name] = address.port;
});

afterAll(async () => {
  await gateway?.shutdown();
  await sshd?.stop();
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

/** OpenSSH with one identity file and nothing but publickey: no token, no agent, no prompts. */
function ssh(key: Key, args: string[], timeoutMs = 20_000): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: join(work, 'home') };
  delete env['SSH_AUTH_SOCK'];
  delete env['SSH_ASKPASS'];
  const child = spawn(
    'ssh',
    [
      '-F',
      '/dev/null',
      '-o',
      'StrictHostKeyChecking=no',
      '-o',
      'UserKnownHostsFile=/dev/null',
      '-o',
      'GlobalKnownHostsFile=/dev/null',
      '-o',
      'ConnectTimeout=10',
      '-i',
      key.file,
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      'PreferredAuthentications=publickey',
      '-o',
      'BatchMode=yes',
      '-p',
      String(ports['ssh-key']),
      ...args,
    ],
    { env },
  );
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
    child.stdin.end();
  });
}

/** Events of the last session whose session.start is after `since`, once it has ended. */
async function sessionEvents(since: number): Promise<StoredEvent[]> {
  for (let i = 0; i < 300; i++) {
    const id = log.events.filter((e) => e.type === 'session.start' && e.seq > since).at(-1)?.sessionId;
    if (id !== undefined && log.eventsOf(id, 'session.end').length > 0) return log.eventsOf(id);
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('session did not end');
}

const lastSeq = () => log.events.at(-1)?.seq ?? 0;
const ofType = (events: StoredEvent[], type: string) =>
  events.filter((e) => e.type === type).map((e) => e.data);

describe('ssh public-key login', () => {
  it('logs a bound key in as its subject without a token and runs an allowed exec', async () => {
    const since = lastSeq();
    const r = await ssh(bot, ['deploy@127.0.0.1', 'echo key-ok; id -un']);
    expect(r).toMatchObject({ code: 0, stdout: `key-ok\n${sshd.user}\n` });
    const events = await sessionEvents(since);
    const auth = ofType(events, 'auth');
    expect(auth).toHaveLength(1);
    expect(auth[0]).toMatchObject({
      outcome: 'success',
      method: 'publickey',
      fingerprint: bot.fingerprint,
      subject: 'deploy-bot',
      groups: ['ops'],
      user: 'deploy',
    });
    expect(bot.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(ofType(events, 'command')).toContainEqual(
      expect.objectContaining({ kind: 'exec', text: 'echo key-ok; id -un' }),
    );
    expect(ofType(events, 'decision')[0]).toMatchObject({ action: 'allow' });
    expect(ofType(events, 'result')[0]).toMatchObject({ status: 'ok', data: { exitStatus: 0 } });
  });

  it('refuses a key that is not bound, and logs the failure', async () => {
    const since = lastSeq();
    const r = await ssh(stranger, ['deploy@127.0.0.1', 'echo should-not-run']);
    expect(r.code).toBe(255);
    expect(r.stderr).toContain('Permission denied');
    expect(r.stdout).toBe('');
    const events = await sessionEvents(since);
    const auth = ofType(events, 'auth');
    expect(auth.length).toBeGreaterThan(0);
    expect(auth.every((a) => a['outcome'] === 'failure')).toBe(true);
    expect(auth[0]).toMatchObject({ method: 'publickey', fingerprint: stranger.fingerprint });
    expect(ofType(events, 'command')).toEqual([]);
  });

  it('refuses a bound key whose identity the connection does not admit', async () => {
    const since = lastSeq();
    const r = await ssh(outsider, ['deploy@127.0.0.1', 'echo should-not-run']);
    expect(r.code).toBe(255);
    expect(r.stderr).toContain('Permission denied');
    const events = await sessionEvents(since);
    const auth = ofType(events, 'auth');
    expect(auth).toHaveLength(1);
    expect(auth[0]).toMatchObject({
      outcome: 'failure',
      method: 'publickey',
      fingerprint: outsider.fingerprint,
      subject: 'outsider',
      groups: ['contractors'],
      reason: 'identity "outsider" is not allowed to use connection "ssh-key"',
    });
    expect(ofType(events, 'command')).toEqual([]);
  });

  it('applies policy to the key identity', async () => {
    const since = lastSeq();
    const r = await ssh(bot, ['deploy@127.0.0.1', 'rm -rf /tmp/gatehouse-pk-nothing']);
    expect(r.code).toBe(126);
    expect(r.stderr).toContain('gatehouse: denied: deploy-bot may not remove files');
    const events = await sessionEvents(since);
    expect(ofType(events, 'auth')[0]).toMatchObject({ outcome: 'success', subject: 'deploy-bot' });
    expect(ofType(events, 'decision')[0]).toMatchObject({ action: 'deny', rule: 'bot-no-rm' });
  });
});
