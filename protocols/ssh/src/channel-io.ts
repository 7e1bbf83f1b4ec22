import type { Readable, Writable } from 'node:stream';

/**
 * Writes to an SSH channel while keeping count of what has not left yet, so that an exit status
 * is sent after the output it follows (ssh2 sends requests at once but queues data on the window).
 */
export class Outbox {
  #pending = 0;
  #waiters: (() => void)[] = [];

  write(sink: Writable, data: Buffer | string): boolean {
    if (sink.destroyed || sink.writableEnded) return true;
    this.#pending++;
    return sink.write(data, () => this.#done());
  }

  /** Resolves once every write so far has left (or after `timeoutMs`, for a peer that stopped reading). */
  flushed(timeoutMs: number): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      this.#waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  #done(): void {
    this.#pending--;
    if (this.#pending > 0) return;
    for (const wake of this.#waiters.splice(0)) wake();
  }
}

/**
 * Copies `from` into `to` through the outbox with backpressure, calling `tap` with each chunk
 * (recording). Does not end `to`: the caller decides what follows the data (exit status, EOF).
 */
export function relay(from: Readable, to: Writable, outbox: Outbox, tap?: (chunk: Buffer) => void): void {
  from.on('data', (chunk: Buffer) => {
    tap?.(chunk);
    if (!outbox.write(to, chunk)) {
      from.pause();
      to.once('drain', () => from.resume());
    }
  });
}

/** Pauses a readable while any of several reasons holds, resuming when none does. */
export class PauseSet {
  readonly #reasons = new Set<string>();
  constructor(private readonly stream: Readable) {}

  set(reason: string, paused: boolean): void {
    const before = this.#reasons.size > 0;
    if (paused) this.#reasons.add(reason);
    else this.#reasons.delete(reason);
    const after = this.#reasons.size > 0;
    if (after && !before) this.stream.pause();
    if (!after && before) this.stream.resume();
  }
}
