/**
 * SSH upstream faults with the real OpenSSH client through an in-process gateway: the sshd process
 * serving an interactive `ssh -tt` shell is killed, the upstream is not listening or drops every
 * connection, and the upstream refuses the gateway's key. Each time the client is told in SSH terms
 * and exits, the session ends with a logged reason, the gateway does not retry behind the client's
 * back, and the next client is served.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type StoredEvent, silentLogger } from '@gatehouse/core';
import { createRegistry, Gateway } from '@gatehouse/gateway';
import { createTokenVerifier } from '@gatehouse/identity';
import { compilePolicy } from '@gatehouse/policy';
import { MemorySessionLog } from '@gatehouse/session-log';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sshModule } from '../../protocols/ssh/src/index.js';
import { sshClientEnv, sshClientOptions } from '../fixtures/sshd.js';
import { collect, type SshGateway, startSshGateway } from '../support/ssh-gateway.js';
import { waitUntil } from './support.js';
import { type CountingUpstream, deadPort, startCountingUpstream } from './upstream-counter.js';

let bed: SshGateway;
let log: MemorySessionLog;
let counting: CountingUpstream;

beforeAll(async () => {
  log = new MemorySessionLog();
  bed = await startSshGateway({ rules: [], log });
  counting = await startCountingUpstream();
}, 120_000);

afterAll(async () => {
  await counting?.close();
  await bed?.stop();
});

const lastSeq = () => log.events.at(-1)?.seq ?? 0;

/** The session.end of the first session that started after `since` on `connection`. */
function endOf(target: MemorySessionLog, since: number, connection: string): Promise<StoredEvent> {
  return waitUntil('the session to end in the log', () => {
    const start = target.events.find(
      (e) => e.type === 'session.start' && e.seq > since && e.data['connection'] === connection,
    );
    return start === undefined ? undefined : target.eventsOf(start.sessionId, 'session.end')[0];
  });
}

async function servesNext(): Promise<void> {
  const r = await bed.run('ssh', [
    ...bed.clientOptions(),
    '-p',
    String(bed.port),
    'deploy@127.0.0.1',
    'echo next-ok',
  ]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toBe('next-ok\n');
}

/** A second gateway on the same issuer whose ssh connection points at `upstream`. */
async function gatewayTo(
  upstream: Record<string, unknown>,
): Promise<{ port: number; log: MemorySessionLog; stop(): Promise<void> }> {
  const own = new MemorySessionLog();
  const gateway = await Gateway.start({
    connections: [
      {
        settings: {
          name: 'broken',
          protocol: 'ssh',
          listen: { host: '127.0.0.1', port: 0 },
          upstream: {
            host: '127.0.0.1',
            user: bed.sshd.user,
            privateKey: bed.sshd.clientKey,
            hostKey: bed.sshd.hostKeyLine,
            ...upstream,
          },
          options: { handshakeTimeoutMs: 10_000 },
        },
      },
    ],
    modules: createRegistry([sshModule]),
    verifier: createTokenVerifier({ providers: [], devIssuer: bed.issuer }),
    policy: compilePolicy({
      connections: [{ name: 'broken', policy: { rules: [], defaultAction: 'allow' } }],
    }),
    log: own,
    approvals: { request: async () => ({ status: 'expired', id: 'none' }) },
    logger: silentLogger,
    dataDir: join(bed.work, 'data'),
    drainTimeoutMs: 500,
  });
  return { port: gateway.addresses()['broken']?.port ?? 0, log: own, stop: () => gateway.shutdown() };
}

function sshTo(port: number, command: string) {
  return collect(
    spawn(
      'ssh',
      [...sshClientOptions(), '-o', 'LogLevel=ERROR', '-p', String(port), 'deploy@127.0.0.1', command],
      {
        env: sshClientEnv(bed.askpass, bed.token, bed.home),
      },
    ),
  );
}

describe('upstream sshd dies under an interactive shell', () => {
  it('ssh -tt gets a message and a failing exit, the session ends logged, and the next client is served', async () => {
    const since = lastSeq();
    const child = spawn('ssh', [...bed.clientOptions(), '-tt', '-p', String(bed.port), 'deploy@127.0.0.1'], {
      env: bed.clientEnv(),
    });
    let seen = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      seen += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdin.on('error', () => undefined);
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    // The shell's stdin stays open: the client is sitting at a prompt when the upstream dies.
    child.stdin.write('echo shell-$((40+2))\n');
    try {
      await waitUntil('the shell to answer', () => (seen.includes('shell-42') ? true : undefined));
      bed.sshd.killSessions();
      await waitUntil('ssh to exit', () => (child.exitCode !== null ? true : undefined), 20_000);
    } finally {
      child.kill('SIGKILL');
    }
    const r = { code: await exited, stderr };
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/gatehouse: the upstream (closed the connection|connection failed)/);
    const end = await endOf(log, since, 'ssh');
    expect(String(end.data['reason'])).toMatch(/^upstream-(closed|error)$/);
    await servesNext();
  });
});

describe('upstream unreachable or refusing', () => {
  it('nothing listening: the client is told the upstream is unreachable, the session is logged', async () => {
    const broken = await gatewayTo({ port: await deadPort() });
    try {
      const r = await sshTo(broken.port, 'echo never');
      expect(r.code).toBe(255);
      expect(r.stderr).toMatch(/gatehouse: the upstream .*unreachable \(ECONNREFUSED\)/);
      const end = await endOf(broken.log, 0, 'broken');
      expect(end.data['reason']).toBe('upstream-error');
      expect(JSON.stringify(broken.log.events)).not.toContain(bed.token);
    } finally {
      await broken.stop();
    }
    await servesNext();
  });

  it('an upstream that drops every connection: one attempt per client, a clear error, a logged session', async () => {
    const broken = await gatewayTo({ port: counting.port });
    try {
      const before = counting.accepted();
      const attempts = 3;
      for (let i = 0; i < attempts; i++) {
        const r = await sshTo(broken.port, 'echo never');
        expect(r.code).toBe(255);
        expect(r.stderr).toMatch(
          /gatehouse: SSH login to the upstream 127\.0\.0\.1:\d+ failed: Connection lost before handshake/,
        );
      }
      const ends = await waitUntil('every session to end', () => {
        const e = broken.log.events.filter((x) => x.type === 'session.end');
        return e.length >= attempts ? e : undefined;
      });
      for (const e of ends) expect(e.data['reason']).toBe('upstream-error');
      // Give a retry loop time to show itself before counting.
      await new Promise((r) => setTimeout(r, 500));
      expect(counting.accepted() - before).toBe(attempts);
    } finally {
      await broken.stop();
    }
  });

  it('an upstream that refuses the gateway key: the client is told, once, and the session is logged', async () => {
    const other = join(bed.work, 'other_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'not-authorized', '-f', other]);
    const broken = await gatewayTo({ port: bed.sshd.port, privateKey: readFileSync(other, 'utf8') });
    try {
      const before = (bed.sshd.log().match(/Connection from 127\.0\.0\.1/g) ?? []).length;
      const r = await sshTo(broken.port, 'echo never');
      expect(r.code).toBe(255);
      expect(r.stderr).toMatch(/gatehouse: the upstream 127\.0\.0\.1:\d+ refused the gateway's credentials/);
      expect(r.stderr).not.toContain('PRIVATE KEY');
      const end = await endOf(broken.log, 0, 'broken');
      expect(end.data['reason']).toBe('upstream-error');
      await new Promise((r2) => setTimeout(r2, 500));
      const after = (bed.sshd.log().match(/Connection from 127\.0\.0\.1/g) ?? []).length;
      expect(after - before).toBe(1);
    } finally {
      await broken.stop();
    }
    await servesNext();
  });
});
