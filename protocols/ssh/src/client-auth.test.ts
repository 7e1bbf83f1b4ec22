import { EventEmitter } from 'node:events';
import { AuthError, ErrorCode, type GatewaySession, type Identity, silentLogger } from '@gatehouse/core';
import type { AuthContext } from 'ssh2';
import { describe, expect, it } from 'vitest';
import { ClientAuth, type KeyAuthSession } from './client-auth.js';
import { generateEd25519Key } from './keys/host-key-store.js';
import { utils } from './keys/ssh2.js';
import { parseSshOptions, parseSshUpstream } from './options.js';

const HOST_KEY = generateEd25519Key('test').public;
const bound = generateEd25519Key('test');
const stranger = generateEd25519Key('test');

class FakeSession {
  readonly calls: { kind: string; data: unknown }[] = [];
  identity: Identity | undefined;
  async authenticate(token: string, details: { method: string; user?: string }): Promise<Identity> {
    this.calls.push({ kind: 'authenticate', data: { token, ...details } });
    if (token !== 'good-token') throw new AuthError('token signature invalid');
    this.identity = { subject: 'agent-1', groups: ['agents'], issuer: 'test' };
    return this.identity;
  }
  async annotate(data: unknown): Promise<void> {
    this.calls.push({ kind: 'annotate', data });
  }
}

class KeySession extends FakeSession implements KeyAuthSession {
  async authenticateKey(
    key: { subject: string; groups: readonly string[]; fingerprint: string },
    details: { method: 'publickey'; user?: string },
  ): Promise<Identity> {
    this.calls.push({ kind: 'authenticateKey', data: { ...key, ...details } });
    if (key.subject === 'blocked') throw new AuthError('not allowed', { code: ErrorCode.AccessDenied });
    this.identity = { subject: key.subject, groups: key.groups, issuer: 'ssh-key' };
    return this.identity;
  }
  async authFailed(details: unknown): Promise<void> {
    this.calls.push({ kind: 'authFailed', data: details });
  }
}

interface Outcome {
  accepted: number;
  rejected: unknown[][];
  prompts: { prompts: unknown; title: string; instructions: string }[];
}

/** An ssh2 auth context stand-in that records what the authenticator answered. */
function context(
  method: string,
  fields: Record<string, unknown>,
  answers: string[][] = [],
): { ctx: AuthContext; outcome: Outcome; settled: Promise<void> } {
  const outcome: Outcome = { accepted: 0, rejected: [], prompts: [] };
  let settle!: () => void;
  const settled = new Promise<void>((r) => {
    settle = r;
  });
  const ctx = Object.assign(new EventEmitter(), {
    method,
    username: 'deploy',
    service: 'ssh-connection',
    ...fields,
    accept: () => {
      outcome.accepted++;
      settle();
    },
    reject: (...args: unknown[]) => {
      outcome.rejected.push(args);
      settle();
    },
    prompt: (prompts: unknown, title: string, instructions: string, cb: (a: string[]) => void) => {
      outcome.prompts.push({ prompts, title, instructions });
      const next = answers.shift();
      if (next !== undefined) setImmediate(() => cb(next));
      else setImmediate(() => cb([]));
    },
  });
  return { ctx: ctx as unknown as AuthContext, outcome, settled };
}

function auth(session: FakeSession, options: Record<string, unknown> = {}, exhausted: string[] = []) {
  return new ClientAuth({
    session: session as unknown as GatewaySession,
    options: parseSshOptions(options),
    upstream: parseSshUpstream({ host: 'h', user: 'app', password: 'pw', hostKey: HOST_KEY }),
    logger: silentLogger,
    onExhausted: (reason) => exhausted.push(reason),
  });
}

const keyOptions = { publicKeys: [{ key: bound.public, subject: 'ci-bot', groups: ['ci'] }] };

function signed(key: typeof bound, data = Buffer.from('session-id and request')) {
  const parsed = utils.parseKey(key.private);
  if (parsed instanceof Error || Array.isArray(parsed)) throw new Error('key');
  const pub = utils.parseKey(key.public) as { getPublicSSH(): Buffer };
  return { key: { algo: 'ssh-ed25519', data: pub.getPublicSSH() }, blob: data, signature: parsed.sign(data) };
}

describe('client auth: tokens', () => {
  it('accepts the token as the password and maps the login to the upstream user', async () => {
    const session = new FakeSession();
    const a = auth(session);
    const { ctx, outcome, settled } = context('password', { password: 'good-token' });
    a.handle(ctx);
    await settled;
    expect(outcome.accepted).toBe(1);
    expect(a.success).toMatchObject({ method: 'password', login: 'deploy', upstreamUser: 'app' });
    expect(session.calls[0]).toEqual({
      kind: 'authenticate',
      data: { token: 'good-token', method: 'password', user: 'deploy' },
    });
  });

  it('asks for the token with keyboard-interactive, explains failures, and stops after the attempts', async () => {
    const session = new FakeSession();
    const exhausted: string[] = [];
    const a = auth(session, { maxAuthAttempts: 2 }, exhausted);
    const { ctx, outcome, settled } = context('keyboard-interactive', {}, [['bad'], ['worse']]);
    a.handle(ctx);
    await settled;
    expect(outcome.accepted).toBe(0);
    expect(outcome.prompts.map((p) => p.instructions)).toEqual([
      '',
      'Authentication failed: token signature invalid. Try again.',
      'Authentication failed: token signature invalid. No attempts left.',
    ]);
    expect(outcome.prompts[2]?.prompts).toEqual([]);
    expect(outcome.rejected).toEqual([[[]]]);
    expect(exhausted[0]).toContain('authentication failed 2 times');
    const later = context('password', { password: 'good-token' });
    a.handle(later.ctx);
    await later.settled;
    expect(later.outcome.accepted).toBe(0);
  });

  it('offers keyboard-interactive and password, and publickey only when keys can be taken', () => {
    expect(auth(new FakeSession(), keyOptions).methods()).toEqual(['keyboard-interactive', 'password']);
    expect(auth(new KeySession(), keyOptions).methods()).toEqual([
      'publickey',
      'keyboard-interactive',
      'password',
    ]);
    expect(auth(new KeySession()).methods()).toEqual(['keyboard-interactive', 'password']);
  });

  it('refuses a login name outside allowedUsers before the token is looked at, and logs why', async () => {
    const session = new KeySession();
    const a = auth(session, { allowedUsers: ['app', 'ops'] });
    const { ctx, outcome, settled } = context('password', { password: 'good-token' });
    a.handle(ctx);
    await settled;
    expect(outcome.accepted).toBe(0);
    expect(session.calls).toEqual([
      {
        kind: 'authFailed',
        data: {
          method: 'password',
          user: 'deploy',
          reason: 'login name "deploy" is not allowed on this connection',
        },
      },
    ]);
    const ok = context('password', { password: 'good-token', username: 'ops' });
    a.handle(ok.ctx);
    await ok.settled;
    expect(a.success).toMatchObject({ login: 'ops', upstreamUser: 'ops' });
  });
});

describe('client auth: public keys', () => {
  it('answers a key offer without a signature with "would do", authenticating nobody', async () => {
    const session = new KeySession();
    const a = auth(session, keyOptions);
    const { key } = signed(bound);
    const { ctx, outcome, settled } = context('publickey', { key });
    a.handle(ctx);
    await settled;
    expect(outcome.accepted).toBe(1);
    expect(a.success).toBeUndefined();
    expect(session.identity).toBeUndefined();
    expect(session.calls).toEqual([]);
  });

  it('authenticates a bound key with a valid signature as its subject and groups', async () => {
    const session = new KeySession();
    const a = auth(session, keyOptions);
    const { ctx, outcome, settled } = context('publickey', { ...signed(bound), hashAlgo: undefined });
    a.handle(ctx);
    await settled;
    expect(outcome.accepted).toBe(1);
    expect(a.success).toMatchObject({ method: 'publickey', identity: { subject: 'ci-bot', groups: ['ci'] } });
    expect(session.calls[0]?.data).toMatchObject({ subject: 'ci-bot', method: 'publickey', user: 'deploy' });
  });

  it('refuses a forged signature and logs the failure with the key fingerprint', async () => {
    const session = new KeySession();
    const a = auth(session, keyOptions);
    const forged = { ...signed(bound), signature: signed(stranger).signature };
    const { ctx, outcome, settled } = context('publickey', forged);
    a.handle(ctx);
    await settled;
    expect(outcome.accepted).toBe(0);
    expect(a.attempts).toBe(1);
    expect(session.calls).toEqual([
      {
        kind: 'authFailed',
        data: expect.objectContaining({ method: 'publickey', reason: expect.stringContaining('not valid') }),
      },
    ]);
    expect(session.calls[0]?.data).toHaveProperty('fingerprint', expect.stringMatching(/^SHA256:/));
  });

  it('ignores keys that are not bound (no attempt used) and keys when the session cannot take them', async () => {
    const session = new KeySession();
    const a = auth(session, keyOptions);
    const other = context('publickey', signed(stranger));
    a.handle(other.ctx);
    await other.settled;
    expect(other.outcome.rejected).toHaveLength(1);
    expect(a.attempts).toBe(0);
    expect(session.calls).toEqual([
      {
        kind: 'authFailed',
        data: expect.objectContaining({
          method: 'publickey',
          reason: 'the key is not bound on this connection',
          fingerprint: expect.stringMatching(/^SHA256:/),
        }),
      },
    ]);
    const plain = auth(new FakeSession(), keyOptions);
    const offered = context('publickey', signed(bound));
    plain.handle(offered.ctx);
    await offered.settled;
    expect(offered.outcome.accepted).toBe(0);
  });

  it('counts an identity the connection refuses as a failed attempt', async () => {
    const session = new KeySession();
    const a = auth(session, { publicKeys: [{ key: bound.public, subject: 'blocked' }] });
    const { ctx, outcome, settled } = context('publickey', signed(bound));
    a.handle(ctx);
    await settled;
    expect(outcome.accepted).toBe(0);
    expect(a.attempts).toBe(1);
  });
});
