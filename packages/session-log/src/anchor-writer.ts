import { writeAnchorAsync } from './anchor.js';

/**
 * Keeps the anchor file following the chain head without blocking commits. One write is in flight
 * at a time; heads committed meanwhile collapse into the newest, which is the only one that matters
 * because an anchor vouches for every event up to it.
 */
export class AnchorWriter {
  readonly #path: string;
  readonly #key: Buffer;
  readonly #durable: boolean;
  readonly #onResult: (err: unknown, idle: boolean) => void;
  #wanted: { seq: number; hash: string } | undefined;
  #running: Promise<void> | undefined;

  /**
   * `onResult` gets undefined after each successful write, the error after each failed one, and
   * whether no newer head is waiting to be written.
   */
  constructor(path: string, key: Buffer, durable: boolean, onResult: (err: unknown, idle: boolean) => void) {
    this.#path = path;
    this.#key = key;
    this.#durable = durable;
    this.#onResult = onResult;
  }

  update(seq: number, hash: string): void {
    this.#wanted = { seq, hash };
    this.#running ??= this.#run();
  }

  /** Resolves once the newest head handed to `update` is written (or failed to be). */
  async idle(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  async #run(): Promise<void> {
    try {
      for (let next = this.#wanted; next !== undefined; next = this.#wanted) {
        this.#wanted = undefined;
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
}
