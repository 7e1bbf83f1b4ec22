import type { ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { RequestQueue } from './request-queue.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('RequestQueue', () => {
  it('runs work in arrival order, one at a time', async () => {
    const socket = new PassThrough();
    const queue = new RequestQueue(socket, () => undefined);
    const seen: string[] = [];
    let release!: () => void;
    queue.push(
      () =>
        new Promise<void>((r) => {
          seen.push('a:start');
          release = () => {
            seen.push('a:end');
            r();
          };
        }),
      undefined,
    );
    queue.push(async () => void seen.push('b'), undefined);
    await tick();
    expect(seen).toEqual(['a:start']);
    expect(queue.active).toBe(2);
    release();
    await queue.settled(1_000);
    expect(seen).toEqual(['a:start', 'a:end', 'b']);
    expect(queue.active).toBe(0);
  });

  it('hands a failure to the handler with its response, and goes on with the next request', async () => {
    const socket = new PassThrough();
    const failures: [string, unknown][] = [];
    const queue = new RequestQueue(socket, (error, res) => failures.push([error.message, res]));
    const res = { marker: true } as unknown as ServerResponse;
    queue.push(async () => {
      throw new Error('boom');
    }, res);
    let ran = false;
    queue.push(async () => {
      ran = true;
    }, undefined);
    await queue.settled(1_000);
    expect(failures).toHaveLength(1);
    expect(failures[0]?.[1]).toBe(res);
    expect(ran).toBe(true);
  });

  it('ends the connection at once when idle on shutdown, else after the last request', async () => {
    const idle = new PassThrough();
    new RequestQueue(idle, () => undefined).shutdown();
    expect(idle.writableEnded).toBe(true);

    const busy = new PassThrough();
    const queue = new RequestQueue(busy, () => undefined);
    let release!: () => void;
    queue.push(() => new Promise<void>((r) => (release = r)), undefined);
    await tick();
    queue.shutdown();
    expect(queue.shuttingDown).toBe(true);
    expect(busy.writableEnded).toBe(false);
    release();
    await queue.settled(1_000);
    await tick();
    expect(busy.writableEnded).toBe(true);
  });

  it('settled gives up after its deadline when a request is held', async () => {
    const queue = new RequestQueue(new PassThrough(), () => undefined);
    queue.push(() => new Promise<void>(() => undefined), undefined);
    await queue.settled(20);
    expect(queue.active).toBe(1);
  });
});
