import { ErrorCode, GatewayError } from '@gatehouse/core';

const EMPTY = Buffer.alloc(0);

/**
 * Growable writer for messages whose size is awkward to compute up front. It can hold several
 * messages back to back (one socket write for AuthenticationOk + ParameterStatus... + ReadyForQuery);
 * each message's length word is filled in when the next one starts or on `finish()`.
 */
export class MessageWriter {
  #buf: Buffer;
  #pos = 0;
  /** Offset of the open message's length word, or -1. */
  #lengthAt = -1;

  constructor(initialSize = 128) {
    this.#buf = Buffer.allocUnsafe(initialSize);
  }

  /** Opens a message; without `code` it is an untyped startup-phase packet. */
  start(code?: number): this {
    this.#close();
    if (code !== undefined) this.byte(code);
    this.#ensure(4);
    this.#lengthAt = this.#pos;
    this.#pos += 4;
    return this;
  }

  byte(v: number): this {
    this.#ensure(1);
    this.#buf.writeUInt8(v, this.#pos);
    this.#pos += 1;
    return this;
  }

  int16(v: number): this {
    this.#ensure(2);
    this.#pos = this.#buf.writeInt16BE(v, this.#pos);
    return this;
  }

  uint16(v: number): this {
    this.#ensure(2);
    this.#pos = this.#buf.writeUInt16BE(v, this.#pos);
    return this;
  }

  int32(v: number): this {
    this.#ensure(4);
    this.#pos = this.#buf.writeInt32BE(v, this.#pos);
    return this;
  }

  uint32(v: number): this {
    this.#ensure(4);
    this.#pos = this.#buf.writeUInt32BE(v, this.#pos);
    return this;
  }

  bytes(v: Uint8Array): this {
    this.#ensure(v.length);
    this.#buf.set(v, this.#pos);
    this.#pos += v.length;
    return this;
  }

  /** Int32 length (-1 for null) followed by the bytes, as parameter and column values are sent. */
  value(v: Uint8Array | null): this {
    if (v === null) return this.int32(-1);
    return this.int32(v.length).bytes(v);
  }

  /** UTF-8 text plus its NUL terminator; a NUL inside would end the string early, so it is refused. */
  cstring(v: string, what: string): this {
    if (v.includes('\0')) {
      throw new GatewayError(ErrorCode.Internal, `cannot encode ${what}: it contains a NUL byte`);
    }
    const n = Buffer.byteLength(v);
    this.#ensure(n + 1);
    this.#buf.write(v, this.#pos, n, 'utf8');
    this.#pos += n;
    this.#buf[this.#pos++] = 0;
    return this;
  }

  /** Everything written so far; the writer starts afresh. */
  finish(): Buffer {
    this.#close();
    const out = this.#buf.subarray(0, this.#pos);
    // The returned view owns this memory now; the next message gets a fresh buffer when it starts.
    this.#buf = EMPTY;
    this.#pos = 0;
    return out;
  }

  #close(): void {
    if (this.#lengthAt < 0) return;
    this.#buf.writeInt32BE(this.#pos - this.#lengthAt, this.#lengthAt);
    this.#lengthAt = -1;
  }

  #ensure(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.#pos + n, this.#buf.length * 2, 64));
    this.#buf.copy(grown, 0, 0, this.#pos);
    this.#buf = grown;
  }
}
