import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ClientCredentialsTokenProvider, StaticTokenProvider } from './token-provider.js';

const SECRET = 's3cret with spaces+plus';

interface Seen {
  authorization: string | undefined;
  contentType: string | undefined;
  body: URLSearchParams;
}

/** A token endpoint standing in for an IdP: answers from a queue, records what it was sent. */
let server: Server;
let url: string;
const seen: Seen[] = [];
let answers: { status: number; body: unknown; delayMs?: number }[] = [];
let issued = 0;

function read(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    req.on('data', (d: Buffer) => {
      text += d.toString();
    });
    req.on('end', () => resolve(text));
  });
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const body = await read(req);
    seen.push({
      authorization: req.headers.authorization,
      contentType: req.headers['content-type'],
      body: new URLSearchParams(body),
    });
    const answer = answers.shift() ?? {
      status: 200,
      body: { access_token: `token-${++issued}`, token_type: 'Bearer', expires_in: 600 },
    };
    if (answer.delayMs !== undefined) await new Promise((r) => setTimeout(r, answer.delayMs));
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/oauth/token`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
});

beforeEach(() => {
  seen.length = 0;
  answers = [];
  issued = 0;
});

function provider(
  now: { t: number },
  extra: Partial<ConstructorParameters<typeof ClientCredentialsTokenProvider>[0]> = {},
) {
  return new ClientCredentialsTokenProvider({
    tokenUrl: url,
    clientId: 'support-agent',
    clientSecret: SECRET,
    now: () => now.t,
    ...extra,
  });
}

describe('ClientCredentialsTokenProvider', () => {
  it('asks with the client-credentials grant and HTTP Basic, form-encoded as RFC 6749 says', async () => {
    const tokens = provider({ t: 0 }, { scope: 'api://gatehouse/.default', audience: 'gatehouse' });
    expect(await tokens.token()).toBe('token-1');
    expect(seen).toHaveLength(1);
    const [request] = seen;
    expect(request?.contentType).toBe('application/x-www-form-urlencoded');
    expect(request?.body.get('grant_type')).toBe('client_credentials');
    expect(request?.body.get('scope')).toBe('api://gatehouse/.default');
    expect(request?.body.get('audience')).toBe('gatehouse');
    // The secret travels in the header only.
    expect(request?.body.has('client_secret')).toBe(false);
    const decoded = Buffer.from(request?.authorization?.replace(/^Basic /, '') ?? '', 'base64').toString();
    expect(decoded).toBe('support-agent:s3cret+with+spaces%2Bplus');
  });

  it('reuses the token, and fetches a new one before it expires', async () => {
    const now = { t: 1_000_000 };
    const tokens = provider(now);
    expect(await tokens.token()).toBe('token-1');
    now.t += 530_000; // 70 s left of 600: still fine with the 60 s margin
    expect(await tokens.token()).toBe('token-1');
    now.t += 15_000; // 55 s left: renew
    expect(await tokens.token()).toBe('token-2');
    expect(seen).toHaveLength(2);
  });

  it('renews short-lived tokens at a tenth of their lifetime when that is more than the margin', async () => {
    const now = { t: 0 };
    const tokens = provider(now, { refreshBeforeMs: 1_000 });
    answers.push({ status: 200, body: { access_token: 'short', expires_in: 100 } });
    expect(await tokens.token()).toBe('short');
    now.t = 89_000;
    expect(await tokens.token()).toBe('short');
    now.t = 91_000;
    expect(await tokens.token()).toBe('token-1');
  });

  it('sends one request for concurrent callers', async () => {
    const tokens = provider({ t: 0 });
    answers.push({ status: 200, body: { access_token: 'slow', expires_in: 600 }, delayMs: 100 });
    const all = await Promise.all(Array.from({ length: 5 }, () => tokens.token()));
    expect(all).toEqual(['slow', 'slow', 'slow', 'slow', 'slow']);
    expect(seen).toHaveLength(1);
  });

  it('keeps the old token while it lasts when renewal fails, then reports why', async () => {
    const now = { t: 0 };
    const tokens = provider(now);
    expect(await tokens.token()).toBe('token-1');
    now.t = 580_000;
    answers.push({ status: 503, body: { error: 'temporarily_unavailable' } });
    expect(await tokens.token()).toBe('token-1');
    now.t = 601_000;
    answers.push({ status: 401, body: { error: 'invalid_client', error_description: 'bad secret' } });
    const err = (await tokens.token().catch((e: unknown) => e)) as Error;
    expect(err.message).toBe('token endpoint answered HTTP 401 (invalid_client: bad secret)');
    expect(err.message).not.toContain(SECRET);
  });

  it('reads the lifetime from the JWT when the endpoint gives no expires_in', async () => {
    const now = { t: 1_700_000_000_000 };
    const tokens = provider(now);
    const payload = Buffer.from(JSON.stringify({ exp: 1_700_000_000 + 120 })).toString('base64url');
    const jwt = `eyJhbGciOiJFZERTQSJ9.${payload}.sig`;
    answers.push({ status: 200, body: { access_token: jwt } });
    expect(await tokens.token()).toBe(jwt);
    now.t += 50_000;
    expect(await tokens.token()).toBe(jwt);
    now.t += 20_000; // 50 s left of 120
    expect(await tokens.token()).toBe('token-1');
  });

  it('refuses an answer without a token, and an unreachable endpoint, with clear messages', async () => {
    answers.push({ status: 200, body: 'not json' });
    await expect(provider({ t: 0 }).token()).rejects.toThrow(
      'token endpoint answered without an access_token',
    );
    const closed = new ClientCredentialsTokenProvider({
      tokenUrl: 'http://127.0.0.1:1/oauth/token',
      clientId: 'a',
      clientSecret: SECRET,
    });
    await expect(closed.token()).rejects.toThrow(/^token endpoint http:\/\/127\.0\.0\.1:1 unreachable/);
  });

  it('refuses to send a secret over plain http to another host', () => {
    expect(
      () =>
        new ClientCredentialsTokenProvider({
          tokenUrl: 'http://idp.example.com/token',
          clientId: 'a',
          clientSecret: SECRET,
        }),
    ).toThrow('must use https');
  });
});

describe('StaticTokenProvider', () => {
  it('hands out the token it was given, trimmed', async () => {
    expect(await new StaticTokenProvider(' abc.def.ghi\n').token()).toBe('abc.def.ghi');
    expect(() => new StaticTokenProvider('  ')).toThrow('empty');
  });
});
