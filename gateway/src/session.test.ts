import { type Identity, silentLogger } from '@gatehouse/core';
import { MemorySessionLog } from '@gatehouse/session-log';
import { describe, expect, it } from 'vitest';
import { GatewayMetrics } from './metrics.js';
import { Session } from './session.js';

const identity: Identity = { subject: 'agent-1', groups: ['agents'], issuer: 'test' };

function newSession(log: MemorySessionLog, secrets: string[] = []) {
  let now = 1_000_000;
  const clock = { now: () => new Date(now) };
  const session = new Session({
    info: {
      id: 's1',
      connection: 'c',
      protocol: 'test',
      clientAddress: '127.0.0.1',
      startedAt: new Date(now),
    },
    connection: {
      name: 'c',
      protocol: 'test',
      listen: { host: '127.0.0.1', port: 0 },
      upstream: {},
      options: {},
    },
    access: undefined,
    verifier: { verify: async () => identity },
    policy: {
      decide: () => ({ action: 'allow' }),
      masker: () => ({ maskValue: (_c, t) => t, maskText: (t) => t }),
    },
    log,
    approvals: { request: async () => ({ status: 'expired', id: 'x' }) },
    clock,
    logger: silentLogger,
    metrics: new GatewayMetrics(),
    secrets,
  });
  return { session, advance: (ms: number) => (now += ms) };
}

describe('Session.output', () => {
  it('batches a run of one stream into one event, splits at stream changes, flushes on end', async () => {
    const log = new MemorySessionLog();
    const { session, advance } = newSession(log);
    session.output('stdin', 'ls');
    session.output('stdin', ' -l\r');
    advance(20);
    session.output('stdout', Buffer.from('total 0\r\n'));
    session.output('stdout', Buffer.from([0xff, 0xfe]));
    await session.end('client-closed');
    const out = log.events.filter((e) => e.type === 'output').map((e) => e.data);
    expect(out).toEqual([
      { stream: 'stdin', t: 0, data: 'ls -l\r' },
      {
        stream: 'stdout',
        t: 20,
        data: Buffer.from('total 0\r\n\xff\xfe', 'latin1').toString('base64'),
        encoding: 'base64',
      },
    ]);
    expect(log.events.at(-1)?.type).toBe('session.end');
  });

  it('flushes on a timer and never records after the end', async () => {
    const log = new MemorySessionLog();
    const { session } = newSession(log);
    session.output('stdout', 'hello');
    await new Promise((r) => setTimeout(r, 80));
    expect(log.events.filter((e) => e.type === 'output')).toHaveLength(1);
    await session.end('client-closed');
    session.output('stdout', 'late');
    await new Promise((r) => setTimeout(r, 80));
    expect(log.events.filter((e) => e.type === 'output')).toHaveLength(1);
  });

  it('redacts configured secrets from recorded output', async () => {
    const log = new MemorySessionLog();
    const { session } = newSession(log, ['s3cr3t-upstream-password']);
    session.output('stdout', 'password is s3cr3t-upstream-password\n');
    await session.end('client-closed');
    expect(JSON.stringify(log.events)).not.toContain('s3cr3t-upstream-password');
  });
});

describe('Session.authenticateKey and authFailed', () => {
  it('admits a key-bound identity with the fingerprint logged, and logs non-token failures', async () => {
    const log = new MemorySessionLog();
    const { session } = newSession(log);
    const identity = await session.authenticateKey(
      { subject: 'deploy-bot', groups: ['ops'], fingerprint: 'SHA256:abc' },
      { method: 'publickey', user: 'deploy' },
    );
    expect(identity).toMatchObject({
      subject: 'deploy-bot',
      groups: ['ops'],
      issuer: 'gatehouse:config-key',
    });
    expect(session.identity?.subject).toBe('deploy-bot');
    expect(log.events.at(-1)?.data).toMatchObject({
      outcome: 'success',
      method: 'publickey',
      fingerprint: 'SHA256:abc',
      subject: 'deploy-bot',
      user: 'deploy',
    });
    await session.authFailed({
      method: 'publickey',
      reason: 'signature did not verify',
      fingerprint: 'SHA256:x',
    });
    expect(log.events.at(-1)?.data).toMatchObject({ outcome: 'failure', reason: 'signature did not verify' });
  });
});
