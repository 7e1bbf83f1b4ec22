import {
  AuthError,
  type CommandTicket,
  ErrorCode,
  type GatewaySession,
  type Identity,
  LogWriteError,
} from '@gatehouse/core';
import { describe, expect, it } from 'vitest';
import { BearerAuth, parseBearer } from './bearer-auth.js';

const HOUR = 3_600_000;
const T0 = Date.parse('2030-01-01T00:00:00Z');

const tokens: Record<string, Identity> = {
  a1: { subject: 'a', groups: ['g1'], issuer: 'i', expiresAt: new Date(T0 + HOUR) },
  a2: { subject: 'a', groups: ['g2'], issuer: 'i', expiresAt: new Date(T0 + 2 * HOUR) },
  b: { subject: 'b', groups: [], issuer: 'i' },
  denied: { subject: 'd', groups: [], issuer: 'i' },
};

/** A session that verifies like the gateway's and records what it was asked to log. */
function fakeSession() {
  const logged: string[] = [];
  let identity: Identity | undefined;
  let logDown = false;
  const verify = async (token: string): Promise<Identity> => {
    const id = tokens[token];
    if (id === undefined) throw new AuthError('signature invalid');
    if (id.expiresAt !== undefined && id.expiresAt.getTime() <= now.ms) throw new AuthError('token expired');
    return id;
  };
  const now = { ms: T0 };
  const session = {
    get identity() {
      return identity;
    },
    async authenticate(token: string) {
      if (logDown) throw new LogWriteError('disk full');
      try {
        const id = await verify(token);
        if (id.subject === 'd') throw new AuthError('not allowed', { code: ErrorCode.AccessDenied });
        logged.push(`auth ok ${token}`);
        identity = id;
        return id;
      } catch (err) {
        logged.push(`auth fail ${token}`);
        throw err;
      }
    },
    async annotate(data: Record<string, unknown>) {
      logged.push(`note ${String(data['auth'])}`);
    },
    async execute(): Promise<CommandTicket> {
      throw new Error('unused');
    },
    result() {},
    masker() {
      throw new Error('unused');
    },
    async end() {},
  } as unknown as GatewaySession;
  const auth = new BearerAuth(session, { verify }, { now: () => new Date(now.ms) });
  return {
    auth,
    logged,
    now,
    setLogDown(v: boolean) {
      logDown = v;
    },
  };
}

describe('parseBearer', () => {
  it.each([
    ['Bearer abc.def.ghi', 'abc.def.ghi'],
    ['bearer abc', 'abc'],
    ['Bearer  abc  ', 'abc'],
    ['Bearer a-b_c~d+e/f==', 'a-b_c~d+e/f=='],
    [undefined, undefined],
    ['Basic dXNlcjpwYXNz', undefined],
    ['Bearer', undefined],
    ['Bearer a b', undefined],
    ['Bearer a,b', undefined],
    [`Bearer ${'x'.repeat(16 * 1024 + 1)}`, undefined],
  ])('%s', (header, token) => {
    expect(parseBearer(header)).toBe(token);
  });
});

describe('BearerAuth', () => {
  it('authenticates once per token and serves repeats from the cache', async () => {
    const { auth, logged } = fakeSession();
    expect(await auth.check('Bearer a1')).toMatchObject({ ok: true, token: 'a1' });
    expect(await auth.check('Bearer a1')).toMatchObject({ ok: true });
    expect(logged).toEqual(['auth ok a1']);
  });

  it('re-verifies a cached token once it has expired, and refuses it', async () => {
    const { auth, logged, now } = fakeSession();
    await auth.check('Bearer a1');
    now.ms = T0 + HOUR + 1;
    expect(await auth.check('Bearer a1')).toMatchObject({
      ok: false,
      status: 401,
      message: 'token expired',
      close: false,
    });
    expect(logged).toEqual(['auth ok a1', 'auth fail a1']);
  });

  it('accepts a new token of the same subject and makes its identity the current one', async () => {
    const { auth, logged } = fakeSession();
    await auth.check('Bearer a1');
    expect(await auth.check('Bearer a2')).toMatchObject({ ok: true, identity: { groups: ['g2'] } });
    // Back to the first token: cached, but the session must use its identity (groups) again.
    expect(await auth.check('Bearer a1')).toMatchObject({ ok: true, identity: { groups: ['g1'] } });
    expect(logged).toEqual(['auth ok a1', 'auth ok a2', 'auth ok a1']);
  });

  it("refuses another subject's token without ever making it the session identity", async () => {
    const { auth, logged } = fakeSession();
    await auth.check('Bearer a1');
    expect(await auth.check('Bearer b')).toMatchObject({ ok: false, status: 401, close: true });
    expect(logged).toEqual(['auth ok a1', 'note rejected']);
    expect(auth.subject).toBe('a');
  });

  it('ends the session when the first token fails, not when a later one does', async () => {
    const first = fakeSession();
    expect(await first.auth.check('Bearer nope')).toMatchObject({
      ok: false,
      status: 401,
      close: true,
      endReason: 'auth-failed',
      tokenPresented: true,
    });
    const later = fakeSession();
    await later.auth.check('Bearer a1');
    const r = await later.auth.check('Bearer nope');
    expect(r).toMatchObject({ ok: false, status: 401, close: false });
    expect(r).not.toHaveProperty('endReason');
  });

  it('maps access denial to 403 and a log outage to 503', async () => {
    const denied = fakeSession();
    expect(await denied.auth.check('Bearer denied')).toMatchObject({
      ok: false,
      status: 403,
      code: 'access_denied',
      endReason: 'access-denied',
    });
    const down = fakeSession();
    down.setLogDown(true);
    expect(await down.auth.check('Bearer a1')).toMatchObject({
      ok: false,
      status: 503,
      code: 'log_unavailable',
    });
  });

  it('does not start anything for a missing or non-bearer header', async () => {
    const { auth, logged } = fakeSession();
    expect(await auth.check(undefined)).toMatchObject({
      ok: false,
      status: 401,
      tokenPresented: false,
      close: false,
    });
    expect(await auth.check('Basic eDp5')).toMatchObject({ ok: false, status: 401, tokenPresented: true });
    expect(logged).toEqual([]);
  });
});
