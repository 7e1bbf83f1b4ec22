/**
 * One in-process gateway with a single `ssh` connection in front of a throwaway sshd, and the
 * OpenSSH client options to reach it with a development-issuer token. For the SSH end-to-end tests
 * that need their own policy or a real SQLite session log.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SessionLogWriter, type StoredEvent, silentLogger } from '@gatehouse/core';
import { createRegistry, Gateway } from '@gatehouse/gateway';
import { createTokenVerifier, type DevIssuer, loadOrCreateDevIssuer } from '@gatehouse/identity';
import { compilePolicy, type RuleConfig } from '@gatehouse/policy';
import { MemorySessionLog } from '@gatehouse/session-log';
import { sshModule } from '../../protocols/ssh/src/index.js';
import {
  type Sshd,
  type SshdOptions,
  sshClientEnv,
  sshClientOptions,
  startSshd,
  writeAskpass,
} from '../fixtures/sshd.js';

export const CONNECTION = 'ssh';

export interface SshGatewayOptions {
  readonly rules: readonly RuleConfig[];
  /** The session log; an in-memory one by default. */
  readonly log?: SessionLogWriter;
  /** The connection's `options`. */
  readonly options?: Record<string, unknown>;
  /** For the upstream sshd (DEBUG1 logs the negotiated ciphers; AcceptEnv). */
  readonly sshd?: SshdOptions;
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface SshGateway {
  readonly sshd: Sshd;
  readonly gateway: Gateway;
  readonly port: number;
  readonly token: string;
  readonly issuer: DevIssuer;
  readonly work: string;
  readonly askpass: string;
  /** HOME for the clients (an empty directory: no user config, keys or known hosts). */
  readonly home: string;
  /** OpenSSH options that reach the gateway without prompts (no `-p`: ssh and scp spell it apart). */
  clientOptions(): string[];
  clientEnv(token?: string): NodeJS.ProcessEnv;
  spawn(cmd: string, args: readonly string[], token?: string): ChildProcessWithoutNullStreams;
  run(cmd: string, args: readonly string[], opts?: { input?: string; token?: string }): Promise<Run>;
  stop(): Promise<void>;
}

export function collect(child: ChildProcessWithoutNullStreams, input = '', timeoutMs = 30_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${child.spawnfile} did not finish: stdout=${stdout} stderr=${stderr}`));
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
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

export async function startSshGateway(opts: SshGatewayOptions): Promise<SshGateway> {
  const sshd = await startSshd(opts.sshd);
  const work = mkdtempSync(join(tmpdir(), 'gatehouse-ssh-gw-'));
  const home = join(work, 'home');
  mkdirSync(home);
  const askpass = writeAskpass(work);
  const dataDir = join(work, 'data');
  const issuer = await loadOrCreateDevIssuer(dataDir);
  const token = await issuer.issue({ sub: 'agent-1', groups: ['agents'] });
  const gateway = await Gateway.start({
    connections: [
      {
        settings: {
          name: CONNECTION,
          protocol: 'ssh',
          listen: { host: '127.0.0.1', port: 0 },
          upstream: {
            host: '127.0.0.1',
            port: sshd.port,
            user: sshd.user,
            privateKey: sshd.clientKey,
            hostKey: sshd.hostKeyLine,
          },
          options: { handshakeTimeoutMs: 10_000, ...opts.options },
        },
      },
    ],
    modules: createRegistry([sshModule]),
    verifier: createTokenVerifier({ providers: [], devIssuer: issuer }),
    policy: compilePolicy({
      connections: [{ name: CONNECTION, policy: { rules: [...opts.rules], defaultAction: 'allow' } }],
    }),
    log: opts.log ?? new MemorySessionLog(),
    approvals: { request: async () => ({ status: 'expired', id: 'none' }) },
    logger: silentLogger,
    dataDir,
    drainTimeoutMs: 1_000,
  });
  const port = gateway.addresses()[CONNECTION]?.port ?? 0;
  const clientEnv = (tok = token) => sshClientEnv(askpass, tok, home);
  const spawnClient = (cmd: string, args: readonly string[], tok?: string) =>
    spawn(cmd, [...args], { env: clientEnv(tok) });
  return {
    sshd,
    gateway,
    port,
    token,
    issuer,
    work,
    askpass,
    home,
    clientOptions: () => [...sshClientOptions(), '-o', 'LogLevel=ERROR'],
    clientEnv,
    spawn: spawnClient,
    run: (cmd, args, o = {}) => collect(spawnClient(cmd, args, o.token), o.input ?? ''),
    stop: async () => {
      await gateway.shutdown();
      await sshd.stop();
      rmSync(work, { recursive: true, force: true });
    },
  };
}

/** The events of the newest session of `log` that started after `sinceSeq`, once it has ended. */
export async function endedSession(log: MemorySessionLog, sinceSeq: number): Promise<StoredEvent[]> {
  for (let i = 0; i < 500; i++) {
    const id = log.events.filter((e) => e.type === 'session.start' && e.seq > sinceSeq).at(-1)?.sessionId;
    if (id !== undefined && log.eventsOf(id, 'session.end').length > 0) return log.eventsOf(id);
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('the session did not end');
}

export const dataOf = (events: readonly StoredEvent[], type: string): Record<string, unknown>[] =>
  events.filter((e) => e.type === type).map((e) => e.data as Record<string, unknown>);
