import { isUtf8 } from 'node:buffer';
import { ProtocolError } from '@gatehouse/core';

/**
 * Bounds-checked cursor over one message body. Every read is checked against the end of the message
 * (not the end of the underlying buffer, which may hold the next messages), so a malformed message can
 * only ever produce a ProtocolError, never a RangeError or a read into its neighbour.
 */
export class MessageReader {
  #buf: Buffer = Buffer.alloc(0);
  #pos = 0;
  #end = 0;
  #context = '';
  readonly #validateUtf8: boolean;

  constructor(validateUtf8 = true) {
    this.#validateUtf8 = validateUtf8;
  }

  /** Points the reader at `buf[start, end)`; `context` names the message in error texts. */
  reset(buf: Buffer, start: number, end: number, context: string): this {
    this.#buf = buf;
    this.#pos = start;
    this.#end = end;
    this.#context = context;
    return this;
  }

  get remaining(): number {
    return this.#end - this.#pos;
  }

  fail(problem: string): never {
    throw new ProtocolError(`${this.#context}: ${problem}`, { details: { message: this.#context } });
  }

  /** Refuses counts whose items cannot fit before any array of that size is allocated. */
  need(bytes: number, what: string): void {
    if (bytes > this.#end - this.#pos) {
      this.fail(`${what} runs past the end of the message (${bytes} bytes needed, ${this.remaining} left)`);
    }
  }

  byte(what: string): number {
    this.need(1, what);
    return this.#buf[this.#pos++]!;
  }

  int16(what: string): number {
    this.need(2, what);
    const v = this.#buf.readInt16BE(this.#pos);
    this.#pos += 2;
    return v;
  }

  uint16(what: string): number {
    this.need(2, what);
    const v = this.#buf.readUInt16BE(this.#pos);
    this.#pos += 2;
    return v;
  }

  int32(what: string): number {
    this.need(4, what);
    const v = this.#buf.readInt32BE(this.#pos);
    this.#pos += 4;
    return v;
  }

  uint32(what: string): number {
    this.need(4, what);
    const v = this.#buf.readUInt32BE(this.#pos);
    this.#pos += 4;
    return v;
  }

  /** A view (not a copy) of the next `n` bytes. */
  bytes(n: number, what: string): Buffer {
    this.need(n, what);
    const v = this.#buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return v;
  }

  /** A view of everything left in the message. */
  rest(): Buffer {
    const v = this.#buf.subarray(this.#pos, this.#end);
    this.#pos = this.#end;
    return v;
  }

  /** A NUL-terminated string that must end inside this message. */
  cstring(what: string): string {
    const start = this.#pos;
    const nul = start < this.#end ? this.#buf.indexOf(0, start) : -1;
    if (nul < 0 || nul >= this.#end) this.fail(`${what} is not NUL-terminated within the message`);
    this.#pos = nul + 1;
    return this.#decode(start, nul, what);
  }

  /** Fails when bytes are left over: PostgreSQL rejects those too (pq_getmsgend). */
  end(): void {
    if (this.#pos !== this.#end) this.fail(`${this.#end - this.#pos} unexpected bytes after the last field`);
  }

  #decode(start: number, end: number, what: string): string {
    const buf = this.#buf;
    // Most names and short statements are ASCII; checking that inline beats a native isUtf8 call on
    // short strings. Longer strings go straight to the native check.
    if (end - start <= 64) {
      let ascii = true;
      for (let i = start; i < end; i++) {
        if (buf[i]! >= 0x80) {
          ascii = false;
          break;
        }
      }
      if (ascii) return buf.toString('latin1', start, end);
    }
    if (this.#validateUtf8 && !isUtf8(buf.subarray(start, end))) this.fail(`${what} is not valid UTF-8`);
    return buf.toString('utf8', start, end);
  }
}

/** Peer-supplied text for error messages: quoted, escaped and cut short, since errors reach logs. */
export function quoteForError(text: string, max = 64): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}
