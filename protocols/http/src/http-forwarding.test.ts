import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type Bed, bearer, curl1, startBed, stopBed, Upstream } from './test-support/harness.js';

let bed: Bed | undefined;
afterEach(async () => {
  await stopBed(bed);
  bed = undefined;
});

/** Sends bytes exactly as given (no client library tidying the target) and reads until close. */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let out = '';
    socket.on('data', (c: Buffer) => {
      out += c.toString('latin1');
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(out));
  });
}

const NON_CANONICAL = [
  '/a/../admin',
  '/./admin',
  '/a/..',
  '/a//b',
  '//admin',
  '/a%2Fb',
  '/a%2fb',
  '/a%5Cb',
  '/a\\b',
  '/%2E%2E/admin',
  '/.%2E/admin',
  '/%2e%2e/admin',
  '/%41dmin',
  '/%252E%252E/admin',
  '/a%zz',
  '/%C0%AE%C0%AE/admin',
  '/a%00b',
  '/%EF%BC%8E%EF%BC%8E/admin',
  '/..;/admin',
  'http://evil.example/admin',
  'evil.example:443',
  '*',
];

describe('http module: request targets', () => {
  it.each(NON_CANONICAL)('refuses %s with 400 and never forwards it', async (target) => {
    bed = await startBed();
    const reply = await raw(
      bed.port,
      `GET ${target} HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer tok-agent\r\nConnection: close\r\n\r\n`,
    );
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect(reply).toMatch(/"code":"(non_canonical_path|protocol_error)"/);
    expect(bed.upstream.seen).toHaveLength(0);
    expect(bed.log.ofType('command')).toHaveLength(0);
  });

  it('refuses dot segments and encoded slashes sent by curl --path-as-is, and notes them in the log', async () => {
    bed = await startBed();
    for (const path of ['/a/../admin/users', '/a//b', '/%2e%2e/admin', '/x%2Fy']) {
      const r = await curl1(['--path-as-is', ...bearer('tok-agent'), `${bed.url}${path}`]);
      expect(r.status, path).toBe(400);
      expect(JSON.parse(r.body).error.code).toBe('non_canonical_path');
    }
    expect(bed.upstream.seen).toHaveLength(0);
    expect(bed.log.ofType('note').map((e) => e.data['reason'])).toEqual([
      'dot segment',
      'empty path segment ("//")',
      'lower-case percent-encoding "%2e" (use upper case)',
      'encoded slash (%2F)',
    ]);
  });

  it('joins the upstream base path and keeps the query verbatim', async () => {
    bed = await startBed();
    const r = await curl1([...bearer('tok-agent'), `${bed.url}/v1/users/a%40b.example/?q=a%20b&x=%2e`]);
    expect(r.status).toBe(200);
    expect(bed.upstream.seen[0]?.url).toBe('/base/v1/users/a%40b.example/?q=a%20b&x=%2e');
    expect(bed.log.ofType('command')[0]?.data['text']).toBe('GET /v1/users/a%40b.example/?q=a%20b&x=%2e');
  });

  it('redacts the caller token from the logged command when it appears in the query', async () => {
    bed = await startBed();
    await curl1([...bearer('tok-agent'), `${bed.url}/cb?access_token=tok-agent`]);
    expect(bed.log.ofType('command')[0]?.data['text']).toBe('GET /cb?access_token=[REDACTED]');
  });
});

describe('http module: streaming', () => {
  it('streams a 20 MiB response: the client has data before the upstream has finished', async () => {
    bed = await startBed();
    const MiB = 1024 * 1024;
    let clientHasData!: () => void;
    const clientGotData = new Promise<void>((r) => {
      clientHasData = r;
    });
    let upstreamDone = false;
    bed.upstream.routes.set('/base/big', async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 20 * MiB });
      const chunk = Buffer.alloc(MiB, 7);
      for (let i = 0; i < 20; i++) {
        // Half way, wait until the client has seen bytes: proof the gateway does not buffer.
        if (i === 10) await clientGotData;
        if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
      }
      upstreamDone = true;
      res.end();
    });
    const res = await fetch(`${bed.url}/big`, { headers: { authorization: 'Bearer tok-agent' } });
    expect(res.status).toBe(200);
    let total = 0;
    let doneBeforeFirstBytes: boolean | undefined;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      doneBeforeFirstBytes ??= upstreamDone;
      total += chunk.length;
      if (total >= MiB) clientHasData();
    }
    expect(doneBeforeFirstBytes).toBe(false);
    expect(total).toBe(20 * MiB);
    const result = (await bed.log.waitFor('result'))[0]?.data;
    expect(result).toMatchObject({ status: 'ok', bytes: 20 * MiB });
  });

  it('streams a request body to the upstream and records its size', async () => {
    bed = await startBed();
    const body = Buffer.alloc(5 * 1024 * 1024, 1);
    const r = await curl1(
      [...bearer('tok-agent'), '-X', 'PUT', '--data-binary', '@-', `${bed.url}/upload`],
      body,
    );
    expect(r.status).toBe(200);
    expect(bed.upstream.seen[0]?.bodyBytes).toBe(body.length);
    expect((await bed.log.waitFor('result'))[0]?.data).toMatchObject({ data: { requestBytes: body.length } });
  });
});

describe('http module: upstream failures', () => {
  it('answers 502 when the upstream is down, and the same connection works once it is back', async () => {
    const stand = new Upstream();
    await stand.start();
    const port = stand.port;
    await stand.stop();
    bed = await startBed({}, {}, port);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(
          `${bed?.url}${path}`,
          { agent, headers: { authorization: 'Bearer tok-agent' } },
          (res) => {
            let body = '';
            res.on('data', (c: Buffer) => {
              body += c.toString();
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        req.end();
      });
    const down = await get('/items');
    expect(down.status).toBe(502);
    expect(JSON.parse(down.body).error).toEqual({
      code: 'upstream_error',
      message: 'the upstream refused the connection',
    });
    const back = new Upstream();
    await back.start(port);
    try {
      const up = await get('/items');
      expect(up.status).toBe(200);
      agent.destroy();
      await bed.log.waitFor('session.end');
      expect(new Set(bed.log.events.map((e) => e.sessionId)).size).toBe(1);
      expect(bed.log.ofType('result').map((e) => [e.data['status'], e.data['summary']])).toEqual([
        ['error', '502'],
        ['ok', '200'],
      ]);
    } finally {
      agent.destroy();
      await back.stop();
    }
  });

  it('answers 502 when the upstream drops the connection, 504 when it stalls', async () => {
    bed = await startBed({}, { upstreamTimeoutMs: 300 });
    bed.upstream.routes.set('/base/drop', (req) => {
      req.socket.destroy();
    });
    bed.upstream.routes.set('/base/stall', () => {});
    const drop = await curl1([...bearer('tok-agent'), `${bed.url}/drop`]);
    expect(drop.status).toBe(502);
    expect(JSON.parse(drop.body).error.message).toBe('the upstream closed the connection before answering');
    const stall = await curl1([...bearer('tok-agent'), `${bed.url}/stall`]);
    expect(stall.status).toBe(504);
    expect(JSON.parse(stall.body).error).toEqual({
      code: 'upstream_timeout',
      message: 'the upstream did not answer within 0.3s',
    });
  });

  it('records an error result when the upstream dies in the middle of a body', async () => {
    bed = await startBed();
    bed.upstream.routes.set('/base/half', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 1000 });
      res.write(Buffer.alloc(100));
      setTimeout(() => res.socket?.destroy(), 50);
    });
    await curl1([...bearer('tok-agent'), `${bed.url}/half`]).catch(() => undefined);
    const result = (await bed.log.waitFor('result'))[0]?.data;
    expect(result).toMatchObject({
      status: 'error',
      summary: '200',
      error: {
        code: 'upstream_error',
        message: 'the upstream closed the connection in the middle of the response',
      },
    });
  });
});
