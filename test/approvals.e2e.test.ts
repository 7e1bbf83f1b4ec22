/**
 * Just-in-time approval end to end: a gateway with the line test module holds a command that a rule
 * marks `review`; an approver decides through the real `gatehouse approvals` CLI over the admin API;
 * the held command then runs, or fails with a clear message. The webhook announcing the request is
 * received by a local server and its signature checked.
 */

import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { parseConfig } from '@gatehouse/config';
import { silentLogger } from '@gatehouse/core';
import { createRegistry, type RunningGateway, startFromConfig } from '@gatehouse/gateway';
import { loadOrCreateDevIssuer } from '@gatehouse/identity';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhookSignature } from '@gatehouse/policy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEchoUpstream } from './fixtures/echo-upstream.js';
import { lineModule } from './fixtures/line-module.js';
import { freePort, runCli, tempDir } from './support/cli.js';

const WEBHOOK_SECRET = 'whsec-test-0123456789';

interface Hook {
  type: string;
  request?: { id?: string; command?: { text?: string } };
}

let running: RunningGateway;
let echo: Awaited<ReturnType<typeof startEchoUpstream>>;
let webhook: Server;
const hooks: Hook[] = [];
const badSignatures: string[] = [];
let linePort: number;
let adminUrl: string;
let agentToken: string;
let approverToken: string;
let selfApproverToken: string;

beforeAll(async () => {
  echo = await startEchoUpstream();
  webhook = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const ok = verifyWebhookSignature(
        WEBHOOK_SECRET,
        String(req.headers[TIMESTAMP_HEADER.toLowerCase()]),
        body,
        String(req.headers[SIGNATURE_HEADER.toLowerCase()]),
      );
      if (ok) hooks.push(JSON.parse(body) as Hook);
      else badSignatures.push(body);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', r));
  const hookAddress = webhook.address();
  const hookPort = typeof hookAddress === 'object' && hookAddress !== null ? hookAddress.port : 0;
  const adminPort = await freePort();
  // Long enough for several CLI runs on a busy machine; the timeout itself is tested on a gateway
  // of its own.
  const config = await lineGatewayConfig({ timeout: '60s', adminPort, hookPort });
  running = await startFromConfig(config, { modules: createRegistry([lineModule]), logger: silentLogger });
  linePort = running.gateway.addresses()['lines']?.port ?? 0;
  adminUrl = `http://127.0.0.1:${adminPort}`;
  const issuer = await loadOrCreateDevIssuer(config.dataDir);
  agentToken = await issuer.issue({ sub: 'agent-1', groups: ['agents'] });
  approverToken = await issuer.issue({ sub: 'alice', groups: ['approvers'] });
  selfApproverToken = await issuer.issue({ sub: 'agent-1', groups: ['approvers'] });
});

/** The line module behind a review rule, with the approvals settings given. */
async function lineGatewayConfig(opts: { timeout: string; adminPort: number; hookPort?: number }) {
  const dir = tempDir();
  const webhook =
    opts.hookPort === undefined
      ? ''
      : `
  webhook:
    url: http://127.0.0.1:${opts.hookPort}/hooks
    secret: ${WEBHOOK_SECRET}`;
  return parseConfig(
    `dataDir: ./data
identity:
  devIssuer: { enabled: true }
admin:
  listen: 127.0.0.1:${opts.adminPort}
  adminGroups: [admins]
approvals:
  approverGroups: [approvers]
  timeout: ${opts.timeout}${webhook}
connections:
  - name: lines
    protocol: test
    listen: 127.0.0.1:0
    upstream: { host: 127.0.0.1, port: ${echo.port} }
    policy:
      rules:
        - id: refunds
          action: review
          message: refunds need an approver
          # No protocol matcher: the rule applies to every command of this connection.
          subjects: [agent-1]
`,
    { file: 'approvals.yaml', baseDir: dir, extraProtocols: ['test'] },
  );
}

afterAll(async () => {
  await running?.close();
  await echo?.close();
  await new Promise<void>((r) => webhook.close(() => r()));
});

class LineClient {
  readonly #iter: AsyncIterator<string>;
  constructor(readonly socket: Socket) {
    this.#iter = createInterface({ input: socket })[Symbol.asyncIterator]();
  }
  static async open(port = linePort): Promise<LineClient> {
    const socket = connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    return new LineClient(socket);
  }
  send(line: string): Promise<string | undefined> {
    this.socket.write(`${line}\n`);
    return this.#iter.next().then((r) => (r.done ? undefined : r.value));
  }
}

async function pendingId(text: string): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const listed = await runCli(['approvals', 'list', '--state', 'pending', '--json', '--server', adminUrl], {
      env: { GATEHOUSE_TOKEN: approverToken },
    });
    expect(listed.code, listed.stderr).toBe(0);
    const found = (JSON.parse(listed.stdout) as { id: string; command: { text: string } }[]).find(
      (r) => r.command.text === text,
    );
    if (found) return found.id;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no pending request for ${text}`);
}

describe('review → approve / deny / timeout through the CLI', () => {
  it('holds the command until an approver approves it with the CLI, then runs it', async () => {
    const client = await LineClient.open();
    expect(await client.send(`AUTH ${agentToken}`)).toBe('OK agent-1');
    const reply = client.send('CMD refund 42');
    const id = await pendingId('refund 42');

    const self = await runCli(['approvals', 'approve', id, '--server', adminUrl], {
      env: { GATEHOUSE_TOKEN: selfApproverToken },
    });
    expect(self.code).toBe(1);
    expect(self.stderr).toContain('you cannot approve your own request');

    const outsider = await runCli(['approvals', 'approve', id, '--server', adminUrl], {
      env: { GATEHOUSE_TOKEN: agentToken },
    });
    expect(outsider.code).toBe(1);

    const approved = await runCli(
      ['approvals', 'approve', id, '--reason', 'customer called', '--server', adminUrl],
      {
        env: { GATEHOUSE_TOKEN: approverToken },
      },
    );
    expect(approved.code, approved.stderr).toBe(0);
    expect(await reply).toBe('OK ECHO refund 42');
    client.socket.destroy();

    const again = await runCli(['approvals', 'approve', id, '--server', adminUrl], {
      env: { GATEHOUSE_TOKEN: approverToken },
    });
    expect(again.code).toBe(1);

    // Every transition is in the requester's session, with who and why.
    const events = running.log.reader().eventsOfType('approval');
    const mine = events.filter(
      (e) => (e.data['request'] as { id?: string } | undefined)?.id === id || e.data['id'] === id,
    );
    expect(mine.map((e) => e.data['state'])).toEqual(['requested', 'approved']);
    expect(JSON.stringify(mine.at(-1)?.data)).toContain('alice');
    expect(JSON.stringify(mine.at(-1)?.data)).toContain('customer called');

    // The webhook announced it with a valid signature.
    await expect
      .poll(() => hooks.some((h) => h.type === 'approval.requested' && h.request?.id === id))
      .toBe(true);
    expect(badSignatures).toEqual([]);
  }, 120_000);

  it("fails the held command with the approver's reason when denied", async () => {
    const client = await LineClient.open();
    await client.send(`AUTH ${agentToken}`);
    const reply = client.send('CMD refund 43');
    const id = await pendingId('refund 43');
    const denied = await runCli(['approvals', 'deny', id, '--reason', 'not today', '--server', adminUrl], {
      env: { GATEHOUSE_TOKEN: approverToken },
    });
    expect(denied.code, denied.stderr).toBe(0);
    expect(await reply).toBe(`ERR approval_denied request ${id} was denied by alice: not today`);
    client.socket.destroy();
  }, 120_000);

  it('fails the held command with a clear message when nobody answers in time', async () => {
    const config = await lineGatewayConfig({ timeout: '2s', adminPort: await freePort() });
    const quick = await startFromConfig(config, {
      modules: createRegistry([lineModule]),
      logger: silentLogger,
    });
    try {
      const issuer = await loadOrCreateDevIssuer(config.dataDir);
      const client = await LineClient.open(quick.gateway.addresses()['lines']?.port ?? 0);
      await client.send(`AUTH ${await issuer.issue({ sub: 'agent-1', groups: ['agents'] })}`);
      const reply = await client.send('CMD refund 44');
      expect(reply).toMatch(/^ERR approval_timeout request apr_\w+ was not approved in time$/);
      client.socket.destroy();
    } finally {
      await quick.close();
    }
  });
});
