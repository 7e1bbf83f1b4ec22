import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EventInput, Identity, Logger, SessionLogWriter, StoredEvent } from '@gatehouse/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApprovalService } from './approval-service.js';
import type { ApprovalRequest } from './approval-types.js';
import { WebhookNotifier } from './webhook-notifier.js';
import { signWebhook, verifyWebhookSignature } from './webhook-signature.js';

const SECRET = 'whsec-0123456789abcdef';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

/** A receiver whose answers are scripted per delivery attempt; `hang` never answers. */
async function receiver(answers: Array<number | 'hang'> = []): Promise<{
  url: string;
  received: Received[];
  close(): Promise<void>;
}> {
  const received: Received[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const answer = answers.shift() ?? 204;
      if (answer === 'hang') return;
      res.writeHead(answer).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/gatehouse?token=abc`,
    received,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Records every logger call so tests can check what reached the operator's log. */
function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (obj: object, msg?: string) => {
    lines.push(`${msg ?? ''} ${JSON.stringify(obj)}`);
  };
  const logger = { lines, debug: log, info: log, warn: log, error: log, child: () => logger };
  return logger;
}

const log: SessionLogWriter = {
  strict: true,
  async append(event: EventInput): Promise<StoredEvent> {
    return { seq: 1, ts: 0, sessionId: event.sessionId, type: event.type, data: {}, prevHash: '', hash: '' };
  },
  health: () => ({ ok: true }),
  async close() {},
};

const agent: Identity = { subject: 'agent-1', groups: ['agents'], issuer: 'test' };
const alice: Identity = { subject: 'alice', groups: ['dba'], issuer: 'test' };
const requestInput = {
  sessionId: 'sess-1',
  connection: 'orders-db',
  identity: agent,
  command: { protocol: 'postgres' as const, kind: 'query', text: 'DELETE FROM orders' },
  decision: { action: 'review' as const, ruleId: 'risky#0' },
};

const request = { id: 'apr_aaaaaaaaaa', command: { text: 'x' } } as unknown as ApprovalRequest;

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

describe('approval webhook', () => {
  it('announces requests and decisions with a valid signature', async () => {
    const hook = await receiver();
    closers.push(hook.close);
    const service = new ApprovalService({
      log,
      logger: recordingLogger(),
      approverGroups: ['dba'],
      webhook: { url: hook.url, secret: SECRET },
    });
    const outcome = service.request(requestInput);
    await vi.waitFor(() => expect(hook.received).toHaveLength(1));
    const [first] = hook.received;
    const ts = first?.headers['x-gatehouse-timestamp'] as string;
    const sig = first?.headers['x-gatehouse-signature'] as string;
    expect(sig).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature(SECRET, ts, first!.body, sig)).toBe(true);
    const payload = JSON.parse(first!.body) as { type: string; id: string; request: ApprovalRequest };
    expect(payload.type).toBe('approval.requested');
    expect(payload.id).toMatch(/^whk_/);
    expect(first?.headers['x-gatehouse-delivery']).toBe(payload.id);
    expect(payload.request).toMatchObject({ subject: 'agent-1', state: 'pending', rule: 'risky#0' });

    await service.approve(payload.request.id, alice, { reason: 'ok' });
    await outcome;
    await service.webhooksIdle();
    const decided = JSON.parse(hook.received[1]!.body) as { type: string; request: ApprovalRequest };
    expect(decided.type).toBe('approval.decided');
    expect(decided.request).toMatchObject({ state: 'approved', approver: 'alice', reason: 'ok' });
  });

  it('retries after a 500 with backoff, and logs failures without the secret or the query', async () => {
    const hook = await receiver([500, 503]);
    closers.push(hook.close);
    const logger = recordingLogger();
    const notifier = new WebhookNotifier(
      { url: hook.url, secret: SECRET, retries: 3, backoffMs: 20 },
      { logger },
    );
    const started = Date.now();
    const delivery = await notifier.send({ type: 'approval.requested', request });
    expect(delivery).toMatchObject({ ok: true, attempts: 3, status: 204 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(20 + 40 - 5);
    expect(hook.received).toHaveLength(3);
    // Same delivery, re-signed each time.
    const ids = new Set(hook.received.map((r) => r.headers['x-gatehouse-delivery']));
    expect(ids.size).toBe(1);
    for (const r of hook.received) {
      const ts = r.headers['x-gatehouse-timestamp'] as string;
      expect(verifyWebhookSignature(SECRET, ts, r.body, r.headers['x-gatehouse-signature'] as string)).toBe(
        true,
      );
    }
    expect(logger.lines.filter((l) => l.includes('attempt failed'))).toHaveLength(2);
    expect(logger.lines.join('\n')).not.toContain(SECRET);
    expect(logger.lines.join('\n')).not.toContain('token=abc');
  });

  it('gives up after the retries, and does not retry a 4xx', async () => {
    const down = await receiver([500, 500, 500]);
    closers.push(down.close);
    const logger = recordingLogger();
    const notifier = new WebhookNotifier({ url: down.url, retries: 2, backoffMs: 5 }, { logger });
    expect(await notifier.send({ type: 'approval.requested', request })).toMatchObject({
      ok: false,
      attempts: 3,
      status: 500,
    });
    expect(logger.lines.some((l) => l.includes('gave up'))).toBe(true);

    const refusing = await receiver([400]);
    closers.push(refusing.close);
    const once = new WebhookNotifier({ url: refusing.url, retries: 5, backoffMs: 5 }, { logger });
    expect(await once.send({ type: 'approval.requested', request })).toMatchObject({
      ok: false,
      attempts: 1,
    });
  });

  it('a dead or hanging receiver never blocks or fails the request', async () => {
    const hanging = await receiver(['hang', 'hang', 'hang']);
    closers.push(hanging.close);
    for (const url of [hanging.url, 'http://127.0.0.1:1/unreachable']) {
      const service = new ApprovalService({
        log,
        logger: recordingLogger(),
        approverGroups: ['dba'],
        webhook: { url, secret: SECRET, timeoutMs: 300, retries: 2, backoffMs: 5_000 },
      });
      const started = Date.now();
      const outcome = service.request(requestInput);
      const [pending] = await vi.waitFor(() => {
        const list = service.list({ state: 'pending' });
        if (list.length === 0) throw new Error('not yet');
        return list;
      });
      await service.approve(pending!.id, alice);
      expect((await outcome).status).toBe('approved');
      expect(Date.now() - started).toBeLessThan(1_000);
      await service.close();
    }
  });

  it('close stops further retries', async () => {
    const down = await receiver([500, 500]);
    closers.push(down.close);
    const notifier = new WebhookNotifier(
      { url: down.url, retries: 5, backoffMs: 10_000 },
      { logger: recordingLogger() },
    );
    const delivery = notifier.send({ type: 'approval.requested', request });
    await vi.waitFor(() => expect(down.received).toHaveLength(1));
    await notifier.close();
    expect(await delivery).toMatchObject({ ok: false, attempts: 1 });
  });

  it('sends no signature header without a secret', async () => {
    const hook = await receiver();
    closers.push(hook.close);
    const notifier = new WebhookNotifier({ url: hook.url }, { logger: recordingLogger() });
    await notifier.send({ type: 'approval.expired', request });
    expect(hook.received[0]?.headers['x-gatehouse-signature']).toBeUndefined();
    expect(hook.received[0]?.headers['x-gatehouse-timestamp']).toMatch(/^\d+$/);
  });

  it('refuses a non-HTTP URL', () => {
    expect(() => new WebhookNotifier({ url: 'file:///etc/passwd' }, { logger: recordingLogger() })).toThrow(
      /http or https/,
    );
  });
});

describe('verifyWebhookSignature', () => {
  const now = new Date('2030-01-01T00:00:00Z');
  const ts = String(now.getTime() / 1000);
  const body = '{"type":"approval.requested"}';
  const sig = signWebhook(SECRET, ts, body);

  it('accepts the signature of the exact body and timestamp', () => {
    expect(verifyWebhookSignature(SECRET, ts, body, sig, { now })).toBe(true);
    expect(verifyWebhookSignature(SECRET, ts, Buffer.from(body), sig, { now })).toBe(true);
  });

  it('rejects a changed body, timestamp, secret or header, and stale timestamps', () => {
    expect(verifyWebhookSignature(SECRET, ts, `${body} `, sig, { now })).toBe(false);
    expect(verifyWebhookSignature(SECRET, String(Number(ts) + 1), body, sig, { now })).toBe(false);
    expect(verifyWebhookSignature('other', ts, body, sig, { now })).toBe(false);
    expect(verifyWebhookSignature(SECRET, ts, body, sig.slice(0, -1), { now })).toBe(false);
    expect(verifyWebhookSignature(SECRET, ts, body, undefined, { now })).toBe(false);
    expect(verifyWebhookSignature(SECRET, undefined, body, sig, { now })).toBe(false);
    expect(verifyWebhookSignature(SECRET, 'abc', body, sig, { now })).toBe(false);
    const later = new Date(now.getTime() + 301_000);
    expect(verifyWebhookSignature(SECRET, ts, body, sig, { now: later })).toBe(false);
    expect(verifyWebhookSignature(SECRET, ts, body, sig, { now: later, toleranceSeconds: 0 })).toBe(true);
  });
});
