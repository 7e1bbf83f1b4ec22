import { writeAnchorAsync } from './anchor.js';

/**
 * Keeps the anchor file following the chain head without blocking commits. One write is in flight
 * at a time; heads committed meanwhile collapse into the newest, which is the only one that matters
 * because an anchor vouches for every event up to it.
 *
 * Writes start at most every `minIntervalMs`: replacing the file (and, when durable, syncing it)
 * costs more than a commit, and under a steady stream of small commits writing it after each one
 * would double the log's I/O. The anchor then trails the head by at most that interval plus one
 * write; `idle()` writes the newest head at once.
 */
export class AnchorWriter {
  readonly #path: string;
  readonly #key: Buffer;
  readonly #durable: boolean;
  readonly #minIntervalMs: number;
  readonly #onResult: (err: unknown, idle: boolean) => void;
  #wanted: { seq: number; hash: string } | undefined;
  #running: Promise<void> | undefined;
  #lastStart = Number.NEGATIVE_INFINITY;
  /** Ends the wait before the next write early (idle() was called). */
  #hurry: (() => void) | undefined;
  #hurried = false;

  /**
   * `onResult` gets undefined after each successful write, the error after each failed one, and
   * whether no newer head is waiting to be written.
   */
  constructor(
    path: string,
    key: Buffer,
    durable: boolean,
    onResult: (err: unknown, idle: boolean) => void,
    minIntervalMs = 0,
  ) {
    this.#path = path;
    this.#key = key;
    this.#durable = durable;
    this.#onResult = onResult;
    this.#minIntervalMs = minIntervalMs;
  }

  update(seq: number, hash: string): void {
    this.#wanted = { seq, hash };
    this.#running ??= this.#run();
  }

  /** Resolves once the newest head handed to `update` is written (or failed to be). */
  async idle(): Promise<void> {
    this.#hurried = true;
    this.#hurry?.();
    try {
      while (this.#running !== undefined) await this.#running;
    } finally {
      this.#hurried = false;
    }
  }

  async #run(): Promise<void> {
    try {
      for (let next = this.#wanted; next !== undefined; next = this.#wanted) {
        await this.#spacing();
        // Heads committed while waiting collapse into the newest.
        next = this.#wanted ?? next;
        this.#wanted = undefined;
        this.#lastStart = performance.now();
        try {
          await writeAnchorAsync(this.#path, this.#key, next.seq, next.hash, this.#durable);
          this.#onResult(undefined, this.#wanted === undefined);
        } catch (err) {
          this.#onResult(err, this.#wanted === undefined);
        }
      }
    } finally {
      this.#running = undefined;
    }
  }

  #spacing(): Promise<void> {
    const wait = this.#lastStart + this.#minIntervalMs - performance.now();
    if (wait <= 0 || this.#hurried) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, wait);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#hurry = () => {
        this.#hurry = undefined;
        done();
      };
    }).finally(() => {
      this.#hurry = undefined;
    });
  }
}
