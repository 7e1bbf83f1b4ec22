/**
 * Security regression suite: getting into the SSH gateway without the right to. Real OpenSSH
 * client (askpass for the token) or an ssh2 client where OpenSSH cannot misbehave on purpose,
 * through the gateway to a real sshd. Every attempt must fail, be logged without the token, and run
 * nothing (the command each attempt carries would leave a file on the host).
 *
 * Attack classes and advisories:
 * - forged tokens over password and keyboard-interactive: `alg: none`, HS256 keyed with the public
 *   key (JWT algorithm confusion, CVE-2015-9235 class), a valid signature with the wrong `aud` or
 *   `iss`, another key under the trusted `kid`, a `jku` header pointing elsewhere, expired and
 *   malformed tokens, an empty answer (Warpgate GHSA-3cjp-w4cp-m9c8: an empty password passed);
 * - a public key offered without a valid signature must authenticate nobody: key offer alone, a
 *   signature by another key, and offering one bound key then signing with another (Warpgate and
 *   golang.org/x/crypto CVE-2024-45337 / GHSA-v778-237x-gjrc "PublicKeyCallback" class: the
 *   identity must be the key that signed); a failed key followed by an empty password (Gitblit
 *   CVE-2024-28080, an auth state machine that fell through);
 * - login names the connection does not allow (`root@`), logged before the token is looked at;
 * - many failed attempts end the connection (maxAuthAttempts), and so do endless `none` requests;
 * - Terrapin (CVE-2023-48795): the gateway's KEXINIT offers kex-strict-s-v00@openssh.com and no
 *   CBC or SHA-1 algorithm, OpenSSH reports strict KEX, and a client that sends an IGNORE message
 *   during a strict initial key exchange is disconnected (the prefix-truncation primitive).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devIssuerKeyPath, loadOrCreateDevIssuer } from '@gatehouse/identity';
import { MemorySessionLog } from '@gatehouse/session-log';
import { generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sshClientOptions } from '../fixtures/sshd.js';
import { collect, dataOf, endedSession, type SshGateway, startSshGateway } from '../support/ssh-gateway.js';
import { kexInitOf, strictKexProbe } from '../support/ssh-kex-probe.js';

const { Client, BaseAgent, utils } = ssh2;

let gw: SshGateway;
let log: MemorySessionLog;
let keys: string;
let marker: string;
let login: string;
const since = () => log.events.at(-1)?.seq ?? 0;

function keygen(name: string): { file: string; line: string; pem: string } {
  const file = join(keys, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', file], { stdio: 'ignore' });
  return { file, line: readFileSync(`${file}.pub`, 'utf8').trim(), pem: readFileSync(file, 'utf8') };
}
let admin: ReturnType<typeof keygen>;
let bot: ReturnType<typeof keygen>;
let stranger: ReturnType<typeof keygen>;

beforeAll(async () => {
  keys = mkdtempSync(join(tmpdir(), 'gh-auth-keys-'));
  admin = keygen('admin_ed25519');
  bot = keygen('bot_ed25519');
  stranger = keygen('stranger_ed25519');
  log = new MemorySessionLog();
  gw = await startSshGateway({
    log,
    rules: [],
    options: {
      allowedUsers: ['gh-ssh-test'],
      maxAuthAttempts: 3,
      handshakeTimeoutMs: 30_000,
      publicKeys: [
        { key: admin.line, subject: 'admin', groups: ['admins'] },
        { key: bot.line, subject: 'ci-bot', groups: ['ci'] },
      ],
    },
  });
  login = `${gw.sshd.user}@127.0.0.1`;
  marker = join(gw.sshd.home, `auth-marker-${process.pid}`);
});

afterAll(async () => {
  await gw?.stop();
  if (keys !== undefined) rmSync(keys, { recursive: true, force: true });
  if (marker !== undefined) rmSync(marker, { force: true });
});

/** OpenSSH with a token through askpass, at the default log level (the gateway's reasons show). */
function sshWithToken(token: string, method: 'password' | 'keyboard-interactive', extra: string[] = []) {
  return collect(
    spawn(
      'ssh',
      [
        ...sshClientOptions(),
        '-o',
        `PreferredAuthentications=${method}`,
        ...extra,
        '-p',
        String(gw.port),
        login,
        `touch ${marker}`,
      ],
      { env: gw.clientEnv(token) },
    ),
  );
}

async function refusedLogin(token: string, method: 'password' | 'keyboard-interactive') {
  const mark = since();
  const r = await sshWithToken(token, method);
  expect(r.code, r.stderr).toBe(255);
  expect(existsSync(marker)).toBe(false);
  const events = await endedSession(log, mark);
  const auth = dataOf(events, 'auth');
  expect(auth.length).toBeGreaterThan(0);
  for (const a of auth) expect(a['outcome']).toBe('failure');
  expect(dataOf(events, 'command')).toEqual([]);
  expect(dataOf(events, 'session.end')[0]).toMatchObject({ reason: 'auth-failed' });
  if (token !== '') expect(JSON.stringify(events)).not.toContain(token);
  return { r, auth };
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

async function forgedTokens(): Promise<[string, string][]> {
  const issuer = await loadOrCreateDevIssuer(join(gw.work, 'data'));
  const claims = { sub: 'admin', groups: ['admins'], iss: issuer.issuer, aud: issuer.audience };
  const now = Math.floor(Date.now() / 1000);
  const timed = { ...claims, iat: now, exp: now + 600 };
  const publicJwk = issuer.publicJwks().keys[0] as JWK;
  const privateJwk = JSON.parse(readFileSync(devIssuerKeyPath(join(gw.work, 'data')), 'utf8')) as JWK;
  const realKey = await importJWK(privateJwk, 'EdDSA');
  const other = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const hs = (secret: Uint8Array) =>
    new SignJWT(timed).setProtectedHeader({ alg: 'HS256', kid: issuer.kid }).sign(secret);
  const stale = await loadOrCreateDevIssuer(join(gw.work, 'data'), {
    clock: { now: () => new Date(Date.now() - 2 * 3_600_000) },
  });
  const wrongIss = await loadOrCreateDevIssuer(join(gw.work, 'data'), {
    issuer: 'https://idp.attacker.example',
  });
  return [
    ['malformed', 'not-a-token'],
    ['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${b64(timed)}.`],
    ['alg none, kid of the trusted key', `${b64({ alg: 'none', kid: issuer.kid })}.${b64(timed)}.`],
    ['HS256 keyed with the public JWK', await hs(new TextEncoder().encode(JSON.stringify(publicJwk)))],
    ['HS256 keyed with the raw public key', await hs(Buffer.from(publicJwk.x as string, 'base64url'))],
    [
      'another key under the trusted kid',
      await new SignJWT(timed).setProtectedHeader({ alg: 'EdDSA', kid: issuer.kid }).sign(other.privateKey),
    ],
    [
      'jku header pointing at an attacker key set',
      await new SignJWT(timed)
        .setProtectedHeader({ alg: 'EdDSA', kid: 'attacker', jku: 'http://127.0.0.1:1/jwks.json' })
        .sign(other.privateKey),
    ],
    [
      'wrong audience',
      await issuer.issue({ sub: 'admin', groups: ['admins'], audience: 'some-other-service' }),
    ],
    ['wrong issuer', await wrongIss.issue({ sub: 'admin', groups: ['admins'] })],
    [
      'no exp',
      await new SignJWT({ ...claims, iat: now })
        .setProtectedHeader({ alg: 'EdDSA', kid: issuer.kid })
        .sign(realKey),
    ],
    ['expired', await stale.issue({ sub: 'admin', groups: ['admins'], ttl: 60_000 })],
  ];
}

describe('forged and bad tokens', () => {
  let tokens: [string, string][];
  beforeAll(async () => {
    tokens = await forgedTokens();
  });

  it('the control: a real token logs in and runs the command', async () => {
    const r = await sshWithToken(gw.token, 'keyboard-interactive');
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(marker)).toBe(true);
    rmSync(marker);
  });

  for (const method of ['keyboard-interactive', 'password'] as const) {
    it.each([
      ['malformed'],
      ['alg none'],
      ['alg none, kid of the trusted key'],
      ['HS256 keyed with the public JWK'],
      ['HS256 keyed with the raw public key'],
      ['another key under the trusted kid'],
      ['jku header pointing at an attacker key set'],
      ['wrong audience'],
      ['wrong issuer'],
      ['no exp'],
      ['expired'],
    ])(`${method}: %s is refused`, async (name) => {
      const token = (tokens.find(([n]) => n === name) as [string, string])[1];
      const { r } = await refusedLogin(token, method);
      if (method === 'keyboard-interactive') expect(r.stderr).toContain('Authentication failed');
    });
  }

  it('an empty answer is refused (password and keyboard-interactive)', async () => {
    for (const method of ['password', 'keyboard-interactive'] as const) await refusedLogin('', method);
  });
});

/** An ssh2 client whose agent holds `offered` but signs with `signer` (or refuses to sign). */
function keyClient(offered: string, signer: string | undefined, then: ssh2.AnyAuthMethod[] = []) {
  const offeredKey = utils.parseKey(offered) as ssh2.ParsedKey;
  const signerKey = signer === undefined ? undefined : (utils.parseKey(signer) as ssh2.ParsedKey);
  class LyingAgent extends BaseAgent {
    getIdentities(cb: (err: Error | undefined, keys?: ssh2.ParsedKey[]) => void) {
      cb(undefined, [offeredKey]);
    }
    sign(
      _key: ssh2.ParsedKey,
      data: Buffer,
      _opts: unknown,
      cb?: (err: Error | undefined, sig?: Buffer) => void,
    ) {
      const done = (cb ?? _opts) as (err: Error | undefined, sig?: Buffer) => void;
      if (signerKey === undefined) return done(new Error('no signature today'));
      done(undefined, signerKey.sign(data) as Buffer);
    }
  }
  const steps: ssh2.AnyAuthMethod[] = [
    { type: 'agent', username: gw.sshd.user, agent: new LyingAgent() } as ssh2.AnyAuthMethod,
    ...then,
  ];
  return new Promise<{ ready: boolean; error?: string }>((resolve) => {
    const client = new Client();
    client.on('ready', () => {
      client.end();
      resolve({ ready: true });
    });
    // A signing failure is reported as an error while the client goes on to the next method.
    let error: string | undefined;
    client.on('error', (err) => {
      error = err.message;
    });
    client.on('close', () => resolve({ ready: false, ...(error === undefined ? {} : { error }) }));
    client.connect({
      host: '127.0.0.1',
      port: gw.port,
      username: gw.sshd.user,
      hostVerifier: () => true,
      readyTimeout: 20_000,
      authHandler: (_methods, _partial, next) =>
        next(steps.shift() ?? (false as unknown as ssh2.AnyAuthMethod)),
    });
  });
}

describe('public keys', () => {
  it('a bound key offered without a signature authenticates nobody', async () => {
    const mark = since();
    const r = await keyClient(admin.pem, undefined);
    expect(r.ready).toBe(false);
    const events = await endedSession(log, mark);
    expect(dataOf(events, 'auth').filter((a) => a['outcome'] === 'success')).toEqual([]);
  });

  it('a bound key with a signature made by another key is refused and logged with its fingerprint', async () => {
    const mark = since();
    const r = await keyClient(admin.pem, stranger.pem);
    expect(r.ready).toBe(false);
    const events = await endedSession(log, mark);
    const auth = dataOf(events, 'auth');
    expect(auth.filter((a) => a['outcome'] === 'success')).toEqual([]);
    expect(auth).toContainEqual(expect.objectContaining({ outcome: 'failure', method: 'publickey' }));
  });

  it('a failed key followed by an empty password does not fall through to success', async () => {
    const mark = since();
    const r = await keyClient(admin.pem, stranger.pem, [
      { type: 'password', username: gw.sshd.user, password: '' },
      {
        type: 'keyboard-interactive',
        username: gw.sshd.user,
        prompt: (_n, _i, _l, _p, finish) => finish(['']),
      },
    ] as ssh2.AnyAuthMethod[]);
    expect(r.ready).toBe(false);
    const events = await endedSession(log, mark);
    expect(dataOf(events, 'auth').filter((a) => a['outcome'] === 'success')).toEqual([]);
  });

  it('offering the admin key and signing with the bot key logs in as the bot, never as admin', async () => {
    const mark = since();
    const r = await keyClient(admin.pem, undefined, [
      { type: 'publickey', username: gw.sshd.user, key: bot.pem },
    ] as ssh2.AnyAuthMethod[]);
    expect(r.ready).toBe(true);
    const events = await endedSession(log, mark);
    const success = dataOf(events, 'auth').filter((a) => a['outcome'] === 'success');
    expect(success).toEqual([
      expect.objectContaining({ method: 'publickey', subject: 'ci-bot', groups: ['ci'] }),
    ]);
    expect(
      dataOf(events, 'session.start')
        .concat(dataOf(events, 'auth'))
        .map((e) => e['subject']),
    ).not.toContain('admin');
  });
});

describe('login names and attempt limits', () => {
  it.each([['root'], ['deploy'], ['GH-SSH-TEST'], ['gh-ssh-test@127.0.0.1']])(
    'login name %j is refused before the token is looked at, and logged',
    async (user) => {
      const mark = since();
      const r = await collect(
        spawn(
          'ssh',
          [...gw.clientOptions(), '-p', String(gw.port), '-l', user, '127.0.0.1', `touch ${marker}`],
          {
            env: gw.clientEnv(),
          },
        ),
      );
      expect(r.code).not.toBe(0);
      expect(existsSync(marker)).toBe(false);
      const events = await endedSession(log, mark);
      for (const a of dataOf(events, 'auth')) expect(a['outcome']).toBe('failure');
      expect(dataOf(events, 'command')).toEqual([]);
    },
  );

  it.each([['gh-ssh-test\u0000root'], ['gh-ssh-test\nroot'], ['../gh-ssh-test']])(
    'login name %j (sent raw by an ssh2 client, with a valid token) is refused',
    async (user) => {
      const mark = since();
      const ready = await new Promise<boolean>((resolve) => {
        const client = new Client();
        client.on('ready', () => {
          client.end();
          resolve(true);
        });
        client.on('error', () => resolve(false));
        client.connect({
          host: '127.0.0.1',
          port: gw.port,
          username: user,
          password: gw.token,
          hostVerifier: () => true,
          readyTimeout: 20_000,
        });
      });
      expect(ready).toBe(false);
      const events = await endedSession(log, mark);
      for (const a of dataOf(events, 'auth')) expect(a['outcome']).toBe('failure');
      expect(JSON.stringify(events)).not.toContain(gw.token);
    },
  );

  it('after maxAuthAttempts wrong tokens the gateway disconnects, whatever the client would try', async () => {
    const mark = since();
    const r = await sshWithToken('wrong', 'password', ['-o', 'NumberOfPasswordPrompts=10']);
    expect(r.code).toBe(255);
    const events = await endedSession(log, mark);
    expect(dataOf(events, 'auth').filter((a) => a['outcome'] === 'failure')).toHaveLength(3);
    expect(dataOf(events, 'session.end')[0]).toMatchObject({ reason: 'auth-failed' });
  });

  it('a client that keeps sending `none` requests is cut off', async () => {
    const mark = since();
    const r = await new Promise<{ ready: boolean; tries: number }>((resolve) => {
      const client = new Client();
      let tries = 0;
      client.on('ready', () => resolve({ ready: true, tries }));
      client.on('error', () => resolve({ ready: false, tries }));
      client.on('close', () => resolve({ ready: false, tries }));
      client.connect({
        host: '127.0.0.1',
        port: gw.port,
        username: gw.sshd.user,
        hostVerifier: () => true,
        readyTimeout: 20_000,
        authHandler: (_m, _p, next) => {
          tries++;
          next(
            tries > 500 ? (false as unknown as ssh2.AnyAuthMethod) : { type: 'none', username: gw.sshd.user },
          );
        },
      });
    });
    expect(r.ready).toBe(false);
    expect(r.tries).toBeLessThanOrEqual(45);
    const events = await endedSession(log, mark);
    expect(dataOf(events, 'session.end')[0]).toMatchObject({ reason: 'auth-failed' });
  });
});

describe('Terrapin (CVE-2023-48795)', () => {
  it('the gateway offers strict key exchange and no CBC cipher or SHA-1 MAC', async () => {
    const kex = await kexInitOf(gw.port);
    expect(kex.kex).toContain('kex-strict-s-v00@openssh.com');
    expect(kex.ciphers.filter((c) => c.includes('-cbc'))).toEqual([]);
    expect(kex.macs.filter((m) => /sha1|md5/.test(m))).toEqual([]);
    expect(kex.hostKeys).not.toContain('ssh-rsa');
  });

  it('OpenSSH negotiates strict KEX with the gateway', async () => {
    const r = await collect(
      spawn('ssh', [...sshClientOptions(), '-vvv', '-p', String(gw.port), login, 'true'], {
        env: gw.clientEnv(),
      }),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('will use strict KEX ordering');
  });

  it('a message injected into a strict initial key exchange ends the connection', async () => {
    expect(await strictKexProbe(gw.port, 10_000)).toBe('closed');
    // The control: without strict KEX the same IGNORE is legal and the server waits for the client.
    expect(await strictKexProbe(gw.port, 2_000, false)).toBe('open');
  });
});
