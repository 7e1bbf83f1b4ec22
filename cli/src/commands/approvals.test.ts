import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import yargs from 'yargs';
import { AdminClient } from '../admin-client.js';
import { CliError, ExitCode } from '../exit-codes.js';
import type { Output } from '../output.js';
import {
  type ApprovalsDeps,
  type ApprovalView,
  approvalsCommand,
  approvalsTable,
  decideApproval,
  formatAge,
  listApprovals,
} from './approvals.js';

const TOKEN = 'tok-approver-secret';
const now = new Date('2030-01-01T12:10:00Z');

const pending: ApprovalView = {
  id: 'apr_abcdefghij',
  sessionId: 'sess-1',
  connection: 'orders-db',
  subject: 'agent-1',
  command: {
    protocol: 'postgres',
    kind: 'query',
    text: "DELETE FROM orders WHERE created_at < now() - interval '90 days' AND status = 'cancelled'\n  AND region = 1",
  },
  rule: 'risky#0',
  createdAt: '2030-01-01T12:05:30Z',
  expiresAt: '2030-01-01T12:10:30Z',
  state: 'pending',
};

interface Seen {
  method: string;
  url: string;
  body: string;
}

let seen: Seen[];
let answer: (req: Seen) => { status: number; body: unknown };
let base: string;
let close: () => Promise<void>;

beforeEach(async () => {
  seen = [];
  answer = () => ({ status: 200, body: { approvals: [pending] } });
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s = {
        method: req.method ?? '',
        url: req.url ?? '',
        body: Buffer.concat(chunks).toString('utf8'),
      };
      seen.push(s);
      const { status, body } = answer(s);
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => new Promise((resolve) => server.close(() => resolve()));
});

afterEach(async () => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
  await close();
});

function capture(color = false): Output & { lines: string[] } {
  const lines: string[] = [];
  return { color, lines, out: (t) => lines.push(t), err: (t) => lines.push(t) };
}

function deps(output: Output): ApprovalsDeps {
  return { client: new AdminClient({ server: base, token: TOKEN }), output, now: () => now };
}

describe('gatehouse approvals', () => {
  it('lists as a table with age, truncated one-line command and state', async () => {
    const out = capture();
    await listApprovals({ json: false, state: 'pending' }, deps(out));
    expect(seen[0]?.url).toBe('/api/approvals?state=pending');
    const [header, row] = out.lines[0]!.split('\n');
    expect(header).toMatch(/^ID\s+AGE\s+SUBJECT\s+CONNECTION\s+COMMAND\s+RULE\s+STATE$/);
    expect(row).toMatch(
      /^apr_abcdefghij\s+4m\s+agent-1\s+orders-db\s+DELETE FROM orders WHERE .*…\s+risky#0\s+pending$/,
    );
    expect(row).not.toContain('\u001b');
  });

  it('colours the state only when colour is wanted', () => {
    expect(approvalsTable([pending], now, capture(true))).toContain('\u001b[33mpending\u001b[39m');
    expect(approvalsTable([pending], now, capture(false))).not.toContain('\u001b');
  });

  it('neutralises control characters in what the server sends', () => {
    const hostile = {
      ...pending,
      subject: 'evil\u001b]0;pwned\u0007',
      command: { ...pending.command, text: 'x\u001b[2J' },
    };
    const text = approvalsTable([hostile], now, capture());
    expect(text).not.toContain('\u001b');
    expect(text).toContain('evil^[]0;pwned\\x07');
  });

  it('prints JSON for machines, and says so when nothing matches', async () => {
    const out = capture();
    await listApprovals({ json: true }, deps(out));
    expect(JSON.parse(out.lines[0]!)).toEqual([pending]);
    expect(seen[0]?.url).toBe('/api/approvals');
    answer = () => ({ status: 200, body: { approvals: [] } });
    await listApprovals({ json: false, state: 'denied' }, deps(out));
    expect(out.lines.at(-1)).toBe('no denied approval requests');
  });

  it('approves with a reason and a window, and says what the grant allows', async () => {
    answer = () => ({
      status: 200,
      body: {
        approval: {
          ...pending,
          state: 'approved',
          grant: { id: 'grt_x', until: '2030-01-01T12:40:00.000Z' },
        },
      },
    });
    const out = capture();
    await decideApproval(
      'approve',
      { id: pending.id, reason: 'OPS-12', window: '30m', json: false },
      deps(out),
    );
    expect(seen[0]).toMatchObject({
      method: 'POST',
      url: `/api/approvals/${pending.id}/approve`,
      body: JSON.stringify({ reason: 'OPS-12', scope: { window: '30m' } }),
    });
    expect(out.lines[0]).toMatch(/^approved apr_abcdefghij: DELETE FROM orders .* \(agent-1 on orders-db\)$/);
    expect(out.lines[1]).toBe(
      'the same command is allowed for agent-1 on orders-db until 2030-01-01 12:40:00Z',
    );
  });

  it('denies, and refuses a bad --window before asking the server', async () => {
    answer = () => ({ status: 200, body: { approval: { ...pending, state: 'denied' } } });
    const out = capture();
    await decideApproval('deny', { id: pending.id, reason: 'no', json: true }, deps(out));
    expect(seen[0]?.body).toBe('{"reason":"no"}');
    expect(JSON.parse(out.lines[0]!)).toMatchObject({ state: 'denied' });

    const err = await decideApproval(
      'approve',
      { id: pending.id, window: 'soon', json: false },
      deps(out),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(ExitCode.Usage);
    expect(seen).toHaveLength(1);
  });

  it('runs through yargs with the token from the environment, honouring NO_COLOR', async () => {
    vi.stubEnv('GATEHOUSE_TOKEN', TOKEN);
    vi.stubEnv('GATEHOUSE_SERVER', base);
    vi.stubEnv('NO_COLOR', '1');
    vi.stubEnv('FORCE_COLOR', '1');
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    await yargs(['approvals', 'list', '--state', 'pending']).command(approvalsCommand).strict().parseAsync();
    vi.mocked(process.stdout.write).mockRestore();
    expect(written.join('')).toContain('apr_abcdefghij');
    expect(written.join('')).not.toContain('\u001b');
    expect(written.join('')).not.toContain(TOKEN);
  });

  it('maps a 404 from the server to exit code 4', async () => {
    answer = () => ({
      status: 404,
      body: { error: { code: 'not_found', message: 'no approval request apr_nope' } },
    });
    const err = await decideApproval('approve', { id: 'apr_nope', json: false }, deps(capture())).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ exitCode: ExitCode.NotFound, message: 'no approval request apr_nope' });
  });
});

describe('formatAge', () => {
  it('rounds down to the largest unit', () => {
    expect([0, 59_999, 60_000, 3_599_999, 3_600_000, 86_400_000 * 3, -5].map(formatAge)).toEqual([
      '0s',
      '59s',
      '1m',
      '59m',
      '1h',
      '3d',
      '0s',
    ]);
  });
});
