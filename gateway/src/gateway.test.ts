import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import {
  type ApprovalBroker,
  AuthError,
  type Decision,
  type EventInput,
  type Identity,
  LogWriteError,
  type PolicyEngine,
  type SessionLogWriter,
  type StoredEvent,
  silentLogger,
} from '@gatehouse/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEchoUpstream } from '../../test/fixtures/echo-upstream.js';
import { lineModule } from '../../test/fixtures/line-module.js';
import { Gateway, type GatewayOptions } from './gateway.js';
import { createRegistry } from './registry.js';

/** An in-memory log whose writes can be made to fail, to test strict mode. */
class RecordingLog implements SessionLogWriter {
  readonly strict = true;
  readonly events: StoredEvent[] = [];
  failing = false;
  async append(event: EventInput): Promise<StoredEvent> {
    if (this.failing) throw new LogWriteError('session log unavailable: disk full');
    let data = JSON.stringify(event.data);
    for (const secret of event.secrets ?? []) if (secret !== '') data = data.split(secret).join('[REDACTED]');
    const stored: StoredEvent = {
      seq: this.events.length + 1,
      ts: Date.now(),
      sessionId: event.sessionId,
      type: event.type,
      data: JSON.parse(data) as Record<string, unknown>,
      prevHash: '',
      hash: '',
    };
    this.events.push(stored);
    return stored;
  }
  health() {
    return { ok: !this.failing };
  }
  async close() {}
  ofType(type: string) {
    return this.events.filter((e) => e.type === type);
  }
}

const identities: Record<string, Identity> = {
  'tok-agent': { subject: 'agent-1', groups: ['agents'], issuer: 'test' },
  'tok-intruder': { subject: 'intruder', groups: ['others'], issuer: 'test' },
};

const verifier = {
  async verify(token: string): Promise<Identity> {
    const identity = identities[token];
    if (identity === undefined) throw new AuthError('token signature invalid');
    return identity;
  },
};

const policy: PolicyEngine = {
  decide({ command }): Decision {
    if (command.text.startsWith('drop')) return { action: 'deny', ruleId: 'guard#0', message: 'no drops' };
    return { action: 'allow' };
  },
  masker: () => ({ maskValue: (_c, t) => t, maskText: (t) => t.replace(/\d{3}-\d{2}-\d{4}/g, '***') }),
};

const approvals: ApprovalBroker = {
  async request() {
    return { status: 'expired', id: 'none' };
  },
};

class LineClient {
  readonly socket: Socket;
  readonly #iter: AsyncIterator<string>;
  constructor(socket: Socket) {
    this.socket = socket;
    this.#iter = createInterface({ input: socket })[Symbol.asyncIterator]();
  }
  static open(port: number): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new LineClient(socket)));
      socket.once('error', reject);
    });
  }
  async next(): Promise<string | undefined> {
    const r = await this.#iter.next();
    return r.done ? undefined : r.value;
  }
  async send(line: string): Promise<string | undefined> {
    this.socket.write(`${line}\n`);
    return this.next();
  }
  closed(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.once('close', () => resolve());
    });
  }
}

describe('Gateway with the line test module', () => {
  let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;
  let log: RecordingLog;
  let gateway: Gateway | undefined;

  beforeEach(async () => {
    upstream = await startEchoUpstream();
    log = new RecordingLog();
  });
  afterEach(async () => {
    await gateway?.shutdown();
    gateway = undefined;
    await upstream.close();
  });

  async function start(over: Partial<GatewayOptions> = {}): Promise<number> {
    gateway = await Gateway.start({
      connections: [
        {
          settings: {
            name: 'lines',
            protocol: 'test',
            listen: { host: '127.0.0.1', port: 0 },
            upstream: { host: '127.0.0.1', port: upstream.port },
            options: {},
          },
          access: { groups: ['agents'] },
        },
      ],
      modules: createRegistry([lineModule]),
      verifier,
      policy,
      log,
      approvals,
      logger: silentLogger,
      dataDir: '/nonexistent',
      drainTimeoutMs: 200,
      ...over,
    });
    return gateway.addresses()['lines']?.port ?? 0;
  }

  async function sessionEnded(): Promise<StoredEvent> {
    for (let i = 0; i < 100; i++) {
      const end = log.ofType('session.end')[0];
      if (end) return end;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('session did not end');
  }

  it('authenticates, judges, forwards and logs a session from start to end', async () => {
    const port = await start();
    const client = await LineClient.open(port);
    expect(await client.send('AUTH tok-agent')).toBe('OK agent-1');
    expect(await client.send('CMD hello world')).toBe('OK ECHO hello world');
    expect(await client.send('CMD ssn 123-45-6789')).toBe('OK ECHO ssn ***');
    client.socket.end('QUIT\n');
    await client.closed();
    const end = await sessionEnded();
    expect(end.data['reason']).toBe('client-closed');
    expect(log.events.map((e) => e.type)).toEqual([
      'session.start',
      'auth',
      'command',
      'decision',
      'result',
      'command',
      'decision',
      'result',
      'session.end',
    ]);
    const start0 = log.events[0];
    expect(start0?.data).toMatchObject({ connection: 'lines', protocol: 'test', clientAddress: '127.0.0.1' });
    expect(log.ofType('auth')[0]?.data).toMatchObject({ outcome: 'success', subject: 'agent-1' });
    expect(log.ofType('command')[0]?.data).toMatchObject({ kind: 'line', text: 'hello world' });
    expect(log.ofType('decision')[0]?.data).toMatchObject({ action: 'allow' });
    expect(log.ofType('result')[0]?.data).toMatchObject({
      status: 'ok',
      command: log.ofType('command')[0]?.seq,
    });
    expect(new Set(log.events.map((e) => e.sessionId)).size).toBe(1);
  });

  it('refuses a bad token with a clear error, logs the failure and never logs the token', async () => {
    const port = await start();
    const client = await LineClient.open(port);
    expect(await client.send('AUTH not-a-real-token')).toBe('ERR auth_failed token signature invalid');
    await client.closed();
    const end = await sessionEnded();
    expect(end.data['reason']).toBe('auth-failed');
    expect(log.ofType('auth')[0]?.data).toMatchObject({
      outcome: 'failure',
      reason: 'token signature invalid',
    });
    expect(JSON.stringify(log.events)).not.toContain('not-a-real-token');
  });

  it('applies connection-level access by group', async () => {
    const port = await start();
    const client = await LineClient.open(port);
    const reply = await client.send('AUTH tok-intruder');
    expect(reply).toMatch(/^ERR access_denied identity "intruder" is not allowed to use connection "lines"/);
    expect((await sessionEnded()).data['reason']).toBe('access-denied');
  });

  it('denies by policy with the rule and its message; the connection stays usable', async () => {
    const port = await start();
    const client = await LineClient.open(port);
    await client.send('AUTH tok-agent');
    expect(await client.send('CMD drop everything')).toBe('ERR policy_denied no drops (rule guard#0)');
    expect(await client.send('CMD still here')).toBe('OK ECHO still here');
    expect(log.ofType('decision').map((e) => e.data['action'])).toEqual(['deny', 'allow']);
    expect(log.ofType('result')).toHaveLength(1);
  });

  it('refuses a connection when the strict log cannot record its start', async () => {
    log.failing = true;
    const port = await start();
    const client = await LineClient.open(port);
    expect(await client.next()).toBe('ERR log_unavailable session log unavailable: disk full');
    await client.closed();
  });

  it('refuses a command when the strict log fails mid-session and forwards nothing', async () => {
    const port = await start();
    const client = await LineClient.open(port);
    await client.send('AUTH tok-agent');
    log.failing = true;
    expect(await client.send('CMD rm -rf /')).toBe('ERR log_unavailable session log unavailable: disk full');
    log.failing = false;
    expect(await client.send('CMD after recovery')).toBe('OK ECHO after recovery');
    expect(log.ofType('command').map((e) => e.data['text'])).toEqual(['after recovery']);
  });

  it('ends the session with a logged reason when the upstream dies', async () => {
    const port = await start();
    const client = await LineClient.open(port);
    await client.send('AUTH tok-agent');
    expect(await client.send('CMD one')).toBe('OK ECHO one');
    upstream.killAll();
    expect(await client.send('CMD two')).toBe('ERR upstream_error upstream closed the connection');
    await client.closed();
    expect((await sessionEnded()).data['reason']).toBe('upstream-error');
    // The gateway keeps serving.
    const next = await LineClient.open(port);
    expect(await next.send('AUTH tok-agent')).toBe('OK agent-1');
  });

  it('limits connections per source address', async () => {
    const port = await start({ maxConnectionsPerSource: 1 });
    const first = await LineClient.open(port);
    expect(await first.send('AUTH tok-agent')).toBe('OK agent-1');
    const second = await LineClient.open(port);
    expect(await second.next()).toBe('ERR access_denied too many connections from 127.0.0.1');
  });

  it('drains on shutdown, then closes open sessions with a reason and refuses new ones', async () => {
    const port = await start();
    const client = await LineClient.open(port);
    await client.send('AUTH tok-agent');
    const stopping = gateway!.shutdown();
    expect(await client.next()).toBe('ERR shutting_down the gateway is shutting down');
    await stopping;
    expect((await sessionEnded()).data['reason']).toBe('gateway-shutdown');
    await expect(LineClient.open(port)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('reports a port that is already taken, naming the connection', async () => {
    const port = await start();
    await expect(
      Gateway.start({
        connections: [
          {
            settings: {
              name: 'again',
              protocol: 'test',
              listen: { host: '127.0.0.1', port },
              upstream: {},
              options: {},
            },
          },
        ],
        modules: createRegistry([lineModule]),
        verifier,
        policy,
        log,
        approvals,
        logger: silentLogger,
        dataDir: '/nonexistent',
      }),
    ).rejects.toThrow(`connection "again": cannot listen on 127.0.0.1:${port}: address already in use`);
  });
});
