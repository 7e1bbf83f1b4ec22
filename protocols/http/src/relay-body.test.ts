import { once } from 'node:events';
import { PassThrough, Transform, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { relayBody } from './relay-body.js';

function sink(): { stream: Writable; received: Buffer[] } {
  const received: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      received.push(chunk);
      done();
    },
  });
  return { stream, received };
}

const upper = () =>
  new Transform({
    transform(chunk: Buffer, _enc, done) {
      done(null, Buffer.from(chunk.toString().toUpperCase()));
    },
  });

describe('relayBody', () => {
  it('streams through the stages and counts what reaches the sink', async () => {
    const source = new PassThrough();
    const out = sink();
    let bytes = 0;
    relayBody(source, [upper(), new PassThrough()], out.stream, (n) => {
      bytes += n;
    });
    source.write('hello ');
    source.end('world');
    await once(out.stream, 'finish');
    expect(Buffer.concat(out.received).toString()).toBe('HELLO WORLD');
    expect(bytes).toBe(11);
  });

  it('counts the source itself when there is no stage', async () => {
    const source = new PassThrough();
    const out = sink();
    let bytes = 0;
    relayBody(source, [], out.stream, (n) => {
      bytes += n;
    });
    source.end(Buffer.alloc(5000));
    await once(out.stream, 'finish');
    expect(bytes).toBe(5000);
  });

  it('tears everything down when a stage fails', async () => {
    const source = new PassThrough();
    const out = sink();
    const failing = new Transform({
      transform(_chunk, _enc, done) {
        done(new Error('masking limit'));
      },
    });
    relayBody(source, [failing], out.stream, () => {});
    source.write('x');
    await once(out.stream, 'close');
    expect(source.destroyed).toBe(true);
    expect(out.stream.writableFinished).toBe(false);
  });

  it('stops reading the source when the sink goes away (the client closed)', async () => {
    const source = new PassThrough();
    const stage = upper();
    const out = sink();
    relayBody(source, [stage], out.stream, () => {});
    source.write('partial');
    out.stream.destroy();
    await once(source, 'close');
    expect(stage.destroyed).toBe(true);
  });

  it('cuts the sink when the source breaks off in the middle (the upstream closed)', async () => {
    const source = new PassThrough();
    const out = sink();
    relayBody(source, [upper()], out.stream, () => {});
    source.write('partial');
    source.destroy();
    await once(out.stream, 'close');
    expect(out.stream.writableFinished).toBe(false);
  });
});
