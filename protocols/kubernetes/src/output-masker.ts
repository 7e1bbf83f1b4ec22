/**
 * The masking detectors over what a process in a container prints — exec and attach stdout and
 * stderr — before the client sees it and before it is recorded.
 *
 * Chunk-safe as HTTP text bodies are (the HTTP module's TextMasker: a value the network or the
 * process's own writes cut in two is still caught), with one difference that a terminal needs:
 * text held back because it might be the start of a value (a prompt, the echo of a key typed in
 * a tty) is masked and sent anyway once it has waited `holdMs`. A value whose two halves are
 * printed further apart than that is masked half by half, which may miss it.
 *
 * Text is read as UTF-8 until a stream shows bytes that are not UTF-8 (a binary file, the tar
 * stream of `kubectl cp`). From then on it is read byte by byte as Latin-1, except that the
 * bytes that would read as accented letters (0xC0–0xFF) stand for themselves as characters no
 * detector takes for part of a word (the CJK compatibility forms, U+FE30–U+FE6F), and become those
 * bytes again on the way out. Otherwise random bytes look like words, and the email detector —
 * which accepts non-ASCII letters — finds addresses in them (about one per 256 KiB of random
 * data). So binary output reaches the client byte for byte unless its ASCII text holds a value.
 */
import { isUtf8 } from 'node:buffer';
import type { Masker } from '@gatehouse/core';
import { TextMasker } from '@gatehouse/http';

export const DEFAULT_OUTPUT_HOLD_MS = 50;

export class OutputMasker {
  readonly #text: TextMasker;
  readonly #emit: (bytes: Buffer) => void;
  readonly #holdMs: number;
  #binary = false;
  /** The start of a UTF-8 character whose other bytes have not arrived yet. */
  #partial: Buffer | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(masker: Masker, emit: (bytes: Buffer) => void, holdMs = DEFAULT_OUTPUT_HOLD_MS) {
    this.#text = new TextMasker(masker);
    this.#emit = emit;
    this.#holdMs = holdMs;
  }

  push(chunk: Buffer): void {
    const bytes = this.#partial === undefined ? chunk : Buffer.concat([this.#partial, chunk]);
    this.#partial = undefined;
    let text: string;
    if (!this.#binary) {
      const whole = completeUtf8(bytes);
      if (isUtf8(bytes.subarray(0, whole))) {
        if (whole < bytes.length) this.#partial = Buffer.from(bytes.subarray(whole));
        text = bytes.toString('utf8', 0, whole);
      } else {
        // What is held was read as UTF-8 and goes out as UTF-8; everything after, byte for byte.
        this.#send(this.#text.end());
        this.#binary = true;
        text = fromBinary(bytes);
      }
    } else {
      text = fromBinary(bytes);
    }
    this.#send(this.#text.push(text));
    if (this.#text.held > 0) this.#timer ??= setTimeout(() => this.#release(), this.#holdMs);
  }

  /** Sends everything held, masked: the stream has ended (or the process exited). */
  end(): void {
    this.#release();
    if (this.#partial !== undefined) {
      // An incomplete character at the very end: its bytes, as they came.
      this.#emit(this.#partial);
      this.#partial = undefined;
    }
  }

  /** Stops the hold timer without sending anything: the client is gone. */
  discard(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #release(): void {
    this.discard();
    this.#send(this.#text.end());
  }

  #send(text: string): void {
    if (text !== '') this.#emit(this.#binary ? toBinary(text) : Buffer.from(text, 'utf8'));
  }
}

/** Latin-1 letters (0xC0–0xFF) are what the email detector would take for word characters. */
const FIRST_LETTER_BYTE = 0xc0;
const STAND_IN = 0xfe30 - FIRST_LETTER_BYTE;
const LAST_STAND_IN = 0xff + STAND_IN;
const utf16 = new TextDecoder('utf-16le');

function fromBinary(bytes: Buffer): string {
  const units = new Uint16Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    units[i] = b >= FIRST_LETTER_BYTE ? b + STAND_IN : b;
  }
  return utf16.decode(units);
}

function toBinary(text: string): Buffer {
  const out = Buffer.allocUnsafe(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // Everything else is a Latin-1 byte read as itself, or a mask (ASCII).
    out[i] = c >= FIRST_LETTER_BYTE + STAND_IN && c <= LAST_STAND_IN ? c - STAND_IN : c;
  }
  return out;
}

/** Length of the prefix of `b` that does not end inside a UTF-8 multi-byte sequence. */
export function completeUtf8(b: Uint8Array): number {
  const n = b.length;
  // A character is at most 4 bytes: look at the last 3 for the start of an unfinished one.
  for (let i = n - 1; i >= 0 && i >= n - 3; i--) {
    const c = b[i] as number;
    if ((c & 0xc0) === 0x80) continue; // a continuation byte: keep looking for the lead
    if (c < 0x80) return n; // ASCII: nothing open
    const length = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return n - i < length ? i : n;
  }
  return n;
}
