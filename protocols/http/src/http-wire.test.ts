import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type Bed, bearer, curl1, startBed, stopBed } from './test-support/harness.js';

let bed: Bed | undefined;
afterEach(async () => {
  await stopBed(bed);
  bed = undefined;
});

function open(port: number): Promise<{ socket: Socket; text: () => string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    let out = '';
    const socket = connect(port, '127.0.0.1', () =>
      resolve({ socket, text: () => out, closed: new Promise((r) => socket.once('close', () => r())) }),
    );
    socket.on('data', (c: Buffer) => {
      out += c.toString('latin1');
    });
    socket.on('error', reject);
  });
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
}

describe('http module: wire behaviour', () => {
  it('answers pipelined requests in order', async () => {
    bed = await startBed();
    const b = bed;
    b.upstream.routes.set('/base/slow', (_req, res) => {
      setTimeout(() => res.end('slow'), 100);
    });
    const c = await open(b.port);
    const head = 'Host: gw\r\nAuthorization: Bearer tok-agent\r\n';
    c.socket.write(`GET /slow HTTP/1.1\r\n${head}\r\nGET /fast HTTP/1.1\r\n${head}Connection: close\r\n\r\n`);
    await c.closed;
    const text = c.text();
    expect(text.indexOf('slow')).toBeGreaterThan(0);
    expect(text.indexOf('slow')).toBeLessThan(text.indexOf('/base/fast'));
    expect(b.upstream.seen.map((s) => s.url)).toEqual(['/base/slow', '/base/fast']);
    expect(b.log.ofType('auth')).toHaveLength(1);
  });

  it('refuses oversized headers with 431', async () => {
    bed = await startBed({}, { maxHeaderBytes: 4096 });
    const r = await curl1([...bearer('tok-agent'), '-H', `X-Big: ${'x'.repeat(8000)}`, `${bed.url}/x`]);
    expect(r.status).toBe(431);
    expect(JSON.parse(r.body).error.code).toBe('headers_too_large');
    expect(bed.upstream.seen).toHaveLength(0);
  });

  it('refuses a malformed request with 400 and ends the session as a protocol error', async () => {
    bed = await startBed();
    const c = await open(bed.port);
    c.socket.write('GET / HTTP/1.1\r\nHost: gw\r\nBad Header\r\n\r\n');
    await c.closed;
    expect(c.text()).toMatch(/^HTTP\/1\.1 400 /);
    expect((await bed.log.waitFor('session.end'))[0]?.data).toMatchObject({ reason: 'protocol-error' });
  });

  it('refuses two Authorization headers', async () => {
    bed = await startBed();
    const r = await curl1([...bearer('tok-agent'), ...bearer('tok-other'), `${bed.url}/x`]);
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).error.message).toBe('more than one Authorization header');
  });

  it('does not ask for the body of a request that policy denies (Expect: 100-continue)', async () => {
    bed = await startBed();
    const c = await open(bed.port);
    c.socket.write(
      'POST /admin/import HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer tok-agent\r\n' +
        'Content-Length: 1000000\r\nExpect: 100-continue\r\n\r\n',
    );
    await c.closed;
    expect(c.text()).not.toContain('100 Continue');
    expect(c.text()).toMatch(/^HTTP\/1\.1 403 [\s\S]*Connection: close/i);
  });

  it('asks for the body once the request is allowed (Expect: 100-continue)', async () => {
    bed = await startBed();
    const c = await open(bed.port);
    c.socket.write(
      'POST /import HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer tok-agent\r\n' +
        'Content-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n',
    );
    await until(() => c.text().includes('100 Continue'));
    expect(bed.log.ofType('decision')[0]?.data).toMatchObject({ action: 'allow' });
    c.socket.write('hello');
    await c.closed;
    expect(c.text()).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    expect(bed.upstream.seen[0]?.bodyBytes).toBe(5);
  });

  it('refuses the connection with 503 when the log cannot record the session start', async () => {
    bed = await startBed();
    bed.log.failing = true;
    const r = await curl1([...bearer('tok-agent'), `${bed.url}/x`]);
    expect(r.status).toBe(503);
    expect(r.headers['retry-after']).toBe('1');
    expect(JSON.parse(r.body).error).toEqual({
      code: 'log_unavailable',
      message: 'session log unavailable: disk full',
    });
  });

  it('closes idle keep-alive connections when the gateway aborts them, not at the keep-alive timeout', async () => {
    bed = await startBed({}, { keepAliveTimeoutMs: 30_000 });
    const c = await open(bed.port);
    c.socket.write('GET /x HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer tok-agent\r\n\r\n');
    await until(() => c.text().includes('/base/x'));
    const started = Date.now();
    await bed.gateway.shutdown();
    await c.closed;
    // The gateway drains for 300 ms in the test bed, then aborts; the module closes right then.
    expect(Date.now() - started).toBeLessThan(1_500);
    expect((await bed.log.waitFor('session.end'))[0]?.data).toMatchObject({ reason: 'gateway-shutdown' });
  });

  it('lets a response in flight at shutdown finish, with Connection: close', async () => {
    bed = await startBed();
    const b = bed;
    let stopping: Promise<void> | undefined;
    b.upstream.routes.set('/base/slow', (_req, res) => {
      stopping = b.gateway.shutdown();
      // Past the drain timeout, so the module sees the abort while this response is pending.
      setTimeout(() => res.end('done'), 500);
    });
    const r = await curl1([...bearer('tok-agent'), `${b.url}/slow`]);
    await stopping;
    expect(r.status).toBe(200);
    expect(r.body).toBe('done');
    expect(r.headers['connection']).toBe('close');
  });
});
