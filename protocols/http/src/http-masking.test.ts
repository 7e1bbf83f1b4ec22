import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { type Bed, bearer, curl1, startBed, stopBed } from './test-support/harness.js';

let bed: Bed | undefined;
afterEach(async () => {
  await stopBed(bed);
  bed = undefined;
});

const AUTH = bearer('tok-agent');

describe('http module: masking', () => {
  it('masks JSON fields and values, also in nested arrays, and leaves the rest byte for byte', async () => {
    bed = await startBed();
    const body =
      '{"id":12345678901234567890,"price":10.50,"email":"john.doe@example.com","ssn":"123-45-6789",' +
      '"payment":{"card":"4111 1111 1111 1111"},"team":[{"contacts":["a@b.io","plain"]},{"ssn":[1,2]}]}';
    bed.upstream.routes.set('/base/users', (_req, res) => {
      res.writeHead(200, {
        'content-type': 'application/json',
        etag: '"v1"',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    });
    const r = await curl1([...AUTH, `${bed.url}/users`]);
    expect(r.status).toBe(200);
    expect(r.body).toBe(
      '{"id":12345678901234567890,"price":10.50,"email":"[email]","ssn":"***",' +
        '"payment":{"card":"[card]"},"team":[{"contacts":["[email]","plain"]},{"ssn":["***","***"]}]}',
    );
    expect(r.headers['etag']).toBeUndefined();
    expect(r.headers['content-length']).toBeUndefined();
    expect((await bed.log.waitFor('result'))[0]?.data).toMatchObject({ bytes: Buffer.byteLength(r.body) });
  });

  it('masks text even when a value is split across upstream chunks', async () => {
    bed = await startBed();
    bed.upstream.routes.set('/base/notes', async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.write('contact: john.doe@exa');
      await new Promise((r) => setTimeout(r, 100));
      res.write('mple.com, card 4111 1111 ');
      await new Promise((r) => setTimeout(r, 100));
      res.end('1111 1111 end\n');
    });
    const r = await curl1([...AUTH, `${bed.url}/notes`]);
    expect(r.body).toBe('contact: [email], card [card] end\n');
  });

  it('sends server-sent events as they come, each masked', async () => {
    bed = await startBed();
    let release!: () => void;
    const released = new Promise<void>((r) => {
      release = r;
    });
    bed.upstream.routes.set('/base/events', async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"user":"a@b.io"}\n\n');
      await released;
      res.end('data: bye\n\n');
    });
    const res = await fetch(`${bed.url}/events`, { headers: { authorization: 'Bearer tok-agent' } });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe('data: {"user":"[email]"}\n\n');
    release();
    let rest = '';
    for (let c = await reader.read(); !c.done; c = await reader.read())
      rest += new TextDecoder().decode(c.value);
    expect(rest).toBe('data: bye\n\n');
  });

  it('decompresses a gzip body the upstream sent anyway, masks it and sends it plain', async () => {
    bed = await startBed();
    const zipped = gzipSync(Buffer.from('{"email":"x@y.io"}'));
    bed.upstream.routes.set('/base/zipped', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(zipped);
    });
    const r = await curl1([...AUTH, `${bed.url}/zipped`]);
    expect(r.body).toBe('{"email":"[email]"}');
    expect(r.headers['content-encoding']).toBeUndefined();
  });

  it('refuses a maskable body in an encoding it cannot read instead of passing it through', async () => {
    bed = await startBed();
    bed.upstream.routes.set('/base/zstd', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'zstd' });
      res.end('(zstd bytes)');
    });
    const r = await curl1([...AUTH, `${bed.url}/zstd`]);
    expect(r.status).toBe(502);
    expect(JSON.parse(r.body).error.message).toBe(
      'cannot mask a application/json response with Content-Encoding zstd',
    );
  });

  it('passes binary types through untouched, and masks untyped bodies as text', async () => {
    bed = await startBed();
    bed.upstream.routes.set('/base/blob', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 8 });
      res.end('a@b.io\n\n');
    });
    bed.upstream.routes.set('/base/untyped', (_req, res) => {
      res.removeHeader('content-type');
      res.end('mail a@b.io');
    });
    const blob = await curl1([...AUTH, `${bed.url}/blob`]);
    expect(blob.body).toBe('a@b.io\n\n');
    expect(blob.headers['content-length']).toBe('8');
    const untyped = await curl1([...AUTH, `${bed.url}/untyped`]);
    expect(untyped.body).toBe('mail [email]');
  });

  it('masks error bodies too', async () => {
    bed = await startBed();
    bed.upstream.routes.set('/base/fail', (_req, res) => {
      res.writeHead(500, { 'content-type': 'application/problem+json' });
      res.end('{"detail":"duplicate key for a@b.io"}');
    });
    const r = await curl1([...AUTH, `${bed.url}/fail`]);
    expect(r.status).toBe(500);
    expect(r.body).toBe('{"detail":"duplicate key for [email]"}');
    expect((await bed.log.waitFor('result'))[0]?.data).toMatchObject({ status: 'error', summary: '500' });
  });

  it('masks a large JSON body as a stream', async () => {
    bed = await startBed();
    const rows = 100_000;
    bed.upstream.routes.set('/base/export', async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('[');
      for (let i = 0; i < rows; i++) {
        const ok = res.write(
          `${i === 0 ? '' : ','}{"id":${i},"email":"user${i}@example.com","note":"row ${i}"}`,
        );
        if (!ok) await new Promise((r) => res.once('drain', r));
      }
      res.end(']');
    });
    const started = Date.now();
    const res = await fetch(`${bed.url}/export`, { headers: { authorization: 'Bearer tok-agent' } });
    const parsed = (await res.json()) as { id: number; email: string }[];
    expect(parsed).toHaveLength(rows);
    expect(parsed.every((row, i) => row.id === i && row.email === '[email]')).toBe(true);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
