import { connect, createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { coalesceWrites } from './coalesce-writes.js';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

async function pair(): Promise<{ client: Socket; received: () => Buffer }> {
  const chunks: Buffer[] = [];
  const server = createServer((s) => s.on('data', (d: Buffer) => chunks.push(d)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const client = connect(typeof address === 'object' && address !== null ? address.port : 0, '127.0.0.1');
  await new Promise((r) => client.once('connect', r));
  cleanup = () => {
    client.destroy();
    server.close();
  };
  return { client, received: () => Buffer.concat(chunks) };
}

describe('coalesceWrites', () => {
  it('holds the writes of one tick back until the tick ends, then sends them all in order', async () => {
    const { client, received } = await pair();
    coalesceWrites(client);
    const done: number[] = [];
    client.write('one ', () => done.push(1));
    client.write(Buffer.from('two '), () => done.push(2));
    expect(client.writableCorked).toBe(1);
    client.write('three', () => done.push(3));
    await new Promise((r) => process.nextTick(r));
    expect(client.writableCorked).toBe(0);
    for (let i = 0; i < 100 && received().length < 13; i++) await new Promise((r) => setTimeout(r, 5));
    expect(received().toString()).toBe('one two three');
    expect(done).toEqual([1, 2, 3]);
    // The next tick starts a new batch.
    client.write('!');
    expect(client.writableCorked).toBe(1);
  });
});
