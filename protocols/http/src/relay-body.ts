import type { Duplex, Readable, Writable } from 'node:stream';

/**
 * Streams a response body from `source` through `stages` into `sink` with backpressure, like
 * `stream.pipeline`, and counts the bytes that reach the sink. If any of them fails or closes
 * before it has finished, all of them are destroyed, so a body cut on one side is cut on the other.
 *
 * Not `stream.pipeline` itself: it arms an AbortController for every call and aborts it when the
 * streams finish, which builds a DOMException with a stack trace — for every proxied response, a
 * cost larger than the rest of the relaying. Byte counting rides on the last stage's `data` events
 * instead of a counting Transform, one stream fewer per response.
 */
export function relayBody(
  source: Readable,
  stages: readonly Duplex[],
  sink: Writable,
  onBytes: (n: number) => void,
): void {
  const all: (Readable | Writable)[] = [source, ...stages, sink];
  let broken = false;
  const breakAll = (): void => {
    if (broken) return;
    broken = true;
    for (const s of all) if (!s.destroyed) s.destroy();
  };
  for (const s of all) {
    // An error listener on each also keeps a failing stage from being an uncaught exception.
    s.once('error', breakAll);
    s.once('close', () => {
      if (!completed(s)) breakAll();
    });
  }
  let from: Readable = source;
  for (const stage of stages) from = from.pipe(stage);
  from.pipe(sink);
  from.on('data', (chunk: Buffer) => onBytes(chunk.length));
}

/** A stream that closes after doing all of its work closed normally. */
function completed(s: Readable | Writable): boolean {
  const writable = 'writableFinished' in s ? s.writableFinished : true;
  const readable = 'readableEnded' in s ? s.readableEnded : true;
  return writable && readable;
}
