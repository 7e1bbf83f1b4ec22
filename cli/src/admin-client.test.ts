import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AdminApiError, AdminClient, DEFAULT_SERVER } from './admin-client.js';
import { CliError, ExitCode } from './exit-codes.js';

const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.secret-token-body.sig';

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
}

/** A stand-in admin API answering every request with `answer`. */
async function stubApi(answer: (req: Seen) => { status: number; body?: unknown; raw?: string }) {
  const seen: Seen[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s: Seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        authorization: req.headers.authorization,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      seen.push(s);
      const { status, body, raw } = answer(s);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(raw ?? (body === undefined ? '' : JSON.stringify(body)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { url, seen };
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function failure(p: Promise<unknown>): Promise<CliError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CliError);
  expect((err as Error).message).not.toContain(TOKEN);
  return err as CliError;
}

describe('AdminClient', () => {
  it('sends the bearer token and JSON, and returns the JSON answer', async () => {
    const api = await stubApi(() => ({ status: 200, body: { ok: true } }));
    const client = new AdminClient({ server: `${api.url}/gw`, token: TOKEN });
    expect(await client.post('/api/approvals/apr_x/approve', { reason: 'r' })).toEqual({ ok: true });
    expect(await client.get('/api/approvals', { state: 'pending', other: undefined })).toEqual({ ok: true });
    expect(api.seen).toEqual([
      {
        method: 'POST',
        url: '/gw/api/approvals/apr_x/approve',
        authorization: `Bearer ${TOKEN}`,
        body: '{"reason":"r"}',
      },
      { method: 'GET', url: '/gw/api/approvals?state=pending', authorization: `Bearer ${TOKEN}`, body: '' },
    ]);
  });

  it('maps answers to exit codes and prints the server message', async () => {
    const cases: Array<[number, string, number, RegExp]> = [
      [404, 'not_found', ExitCode.NotFound, /^no approval request apr_x$/],
      [403, 'self_approval', ExitCode.Failure, /^you cannot approve your own request/],
      [409, 'conflict', ExitCode.Failure, /^request apr_x is already denied/],
      [400, 'bad_request', ExitCode.Usage, /^scope.window must be/],
      [401, 'unauthenticated', ExitCode.Failure, /did not accept the token: token expired/],
      [503, 'log_unavailable', ExitCode.Failure, /^admin API error \(503\): log down/],
    ];
    const messages: Record<number, string> = {
      404: 'no approval request apr_x',
      403: 'you cannot approve your own request (apr_x)',
      409: 'request apr_x is already denied by bob',
      400: 'scope.window must be a duration such as 30m or 1h',
      401: 'token expired',
      503: 'log down',
    };
    for (const [status, code, exit, message] of cases) {
      const api = await stubApi(() => ({ status, body: { error: { code, message: messages[status] } } }));
      const err = await failure(
        new AdminClient({ server: api.url, token: TOKEN }).post('/api/approvals/apr_x/approve'),
      );
      expect(err).toBeInstanceOf(AdminApiError);
      expect((err as AdminApiError).status).toBe(status);
      expect((err as AdminApiError).code).toBe(code);
      expect(err.exitCode).toBe(exit);
      expect(err.message).toMatch(message);
    }
  });

  it('reports an unreachable server or a non-JSON answer as a failure', async () => {
    const gone = await stubApi(() => ({ status: 200, body: {} }));
    await closers.pop()?.();
    const down = await failure(new AdminClient({ server: gone.url, token: TOKEN }).get('/api/approvals'));
    expect(down.exitCode).toBe(ExitCode.Failure);
    expect(down.message).toMatch(/^cannot reach the admin API at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED$/);

    const api = await stubApi(() => ({ status: 200, raw: '<html>' }));
    const odd = await failure(new AdminClient({ server: api.url, token: TOKEN }).get('/api/approvals'));
    expect(odd.message).toMatch(/not JSON/);
  });

  it('takes --server and --token, else the environment, and refuses bad values as usage errors', () => {
    expect(AdminClient.fromArgs({ token: TOKEN }, {}).server).toBe(DEFAULT_SERVER);
    expect(
      AdminClient.fromArgs({}, { GATEHOUSE_TOKEN: TOKEN, GATEHOUSE_SERVER: 'https://gw:9443' }).server,
    ).toBe('https://gw:9443');
    expect(
      AdminClient.fromArgs({ server: 'http://a:1', token: TOKEN }, { GATEHOUSE_SERVER: 'http://b:2' }).server,
    ).toBe('http://a:1');
    for (const [args, env] of [
      [{}, {}],
      [{}, { GATEHOUSE_TOKEN: '' }],
      [{ token: 'two words' }, {}],
      [{ token: TOKEN, server: 'not a url' }, {}],
      [{ token: TOKEN, server: 'ftp://gw' }, {}],
    ] as const) {
      let err: unknown;
      try {
        AdminClient.fromArgs(args, env);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(args)).toBeInstanceOf(CliError);
      expect((err as CliError).exitCode).toBe(ExitCode.Usage);
    }
  });
});
