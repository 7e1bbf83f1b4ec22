import { ProtocolError } from '@gatehouse/core';

/** Largest backend message accepted from the upstream (PostgreSQL's own cap is 1 GiB). */
export const DEFAULT_MAX_BACKEND_MESSAGE = 256 * 1024 * 1024;

/** Called once per complete message; `raw` is the whole message, type byte and length included. */
export type BackendMessageSink = (code: number, raw: Buffer) => void;

/**
 * Splits what the upstream server sends into whole messages without decoding them: the relay
 * forwards most messages untouched, so it only needs their boundaries. A message complete inside a
 * chunk is handed over as a view of that chunk (no copy); only a message spanning chunks is copied,
 * once. pg-protocol's parser would decode every DataRow into strings, which a relay does not need.
 */
export class BackendFramer {
  readonly #max: number;
  #tail: Buffer | undefined;
  #tailLength = 0;
  /** Total size of the partial message once its header is known, else 0. */
  #need = 0;

  constructor(maxMessage = DEFAULT_MAX_BACKEND_MESSAGE) {
    this.#max = maxMessage;
  }

  /** Bytes of a message that has not fully arrived. */
  get bufferedBytes(): number {
    return this.#tailLength;
  }

  push(chunk: Buffer, sink: BackendMessageSink): void {
    let offset = 0;
    const end = chunk.length;
    if (this.#tailLength > 0) {
      offset = this.#fill(chunk, sink);
      if (this.#tailLength > 0) return;
    }
    while (end - offset >= 5) {
      const total = this.#length(chunk, offset);
      if (total > end - offset) break;
      sink(chunk[offset]!, chunk.subarray(offset, offset + total));
      offset += total;
    }
    if (offset < end) {
      const n = end - offset;
      this.#need = n >= 5 ? this.#length(chunk, offset) : 0;
      this.#tail = Buffer.allocUnsafe(Math.max(this.#need, 64, n));
      chunk.copy(this.#tail, 0, offset);
      this.#tailLength = n;
    }
  }

  #length(buf: Buffer, offset: number): number {
    const len = buf.readInt32BE(offset + 1);
    if (len < 4 || len > this.#max) {
      throw new ProtocolError(
        `upstream sent a message of type 0x${buf[offset]!.toString(16)} with length ${len}`,
      );
    }
    return len + 1;
  }

  #fill(chunk: Buffer, sink: BackendMessageSink): number {
    let used = 0;
    if (this.#need === 0) {
      used = Math.min(5 - this.#tailLength, chunk.length);
      this.#append(chunk, 0, used);
      if (this.#tailLength < 5) return used;
      this.#need = this.#length(this.#tail!, 0);
    }
    const take = Math.min(this.#need - this.#tailLength, chunk.length - used);
    this.#append(chunk, used, used + take);
    used += take;
    if (this.#tailLength === this.#need) {
      const whole = this.#tail!.subarray(0, this.#need);
      this.#tail = undefined;
      this.#tailLength = 0;
      this.#need = 0;
      sink(whole[0]!, whole);
    }
    return used;
  }

  #append(chunk: Buffer, from: number, to: number): void {
    const needed = this.#tailLength + (to - from);
    if (this.#tail === undefined || needed > this.#tail.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.#need));
      this.#tail?.copy(grown, 0, 0, this.#tailLength);
      this.#tail = grown;
    }
    chunk.copy(this.#tail, this.#tailLength, from, to);
    this.#tailLength = needed;
  }
}
