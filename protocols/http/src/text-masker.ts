import type { Masker } from '@gatehouse/core';

/** Incremental masker over decoded text: push pieces, get masked text that is safe to send. */
export interface IncrementalMasker {
  push(text: string): string;
  end(): string;
}

export interface TextMaskerOptions {
  /**
   * Characters held back between pieces. A sensitive value shorter than this is caught even when
   * the upstream's chunks cut it in two. 4 Ki covers emails, cards, IBANs and typical JWTs.
   */
  readonly tail?: number;
  /** Most text held while a value keeps straddling every cut; past it the window is sent masked. */
  readonly maxHold?: number;
}

const DEFAULT_TAIL = 4096;
const DEFAULT_MAX_HOLD = 1024 * 1024;

/**
 * Masks a text stream with `maskText` over a sliding window. The masker only offers
 * `maskText(string)`, not match positions, so a cut point is accepted only when masking the two
 * sides separately gives exactly what masking them together gives: then no detected value spans
 * the cut. Otherwise the cut moves back and more is held.
 *
 * Line-oriented streams (SSE, NDJSON, logs) are not delayed: when the last line break lies within
 * the tail, the cut goes right after it, so a piece that ends a line is sent at once. Values that
 * span a line break are then only caught within one window.
 */
export class TextMasker implements IncrementalMasker {
  readonly #masker: Masker;
  readonly #tail: number;
  readonly #maxHold: number;
  #held = '';

  constructor(masker: Masker, options: TextMaskerOptions = {}) {
    this.#masker = masker;
    this.#tail = options.tail ?? DEFAULT_TAIL;
    this.#maxHold = options.maxHold ?? DEFAULT_MAX_HOLD;
  }

  push(text: string): string {
    if (text === '') return '';
    const window = this.#held + text;
    const nl = window.lastIndexOf('\n');
    let cut = nl !== -1 && window.length - (nl + 1) <= this.#tail ? nl + 1 : window.length - this.#tail;
    while (cut > 0) {
      // Never split a surrogate pair: each half would be sent as U+FFFD.
      if (isHighSurrogate(window.charCodeAt(cut - 1))) cut--;
      const head = window.slice(0, cut);
      const rest = window.slice(cut);
      const maskedHead = this.#masker.maskText(head);
      if (rest === '' || this.#masker.maskText(window) === maskedHead + this.#masker.maskText(rest)) {
        this.#held = rest;
        return maskedHead;
      }
      cut -= this.#tail;
    }
    if (window.length > this.#maxHold) {
      this.#held = '';
      return this.#masker.maskText(window);
    }
    this.#held = window;
    return '';
  }

  /** Characters held back, waiting for what follows them. */
  get held(): number {
    return this.#held.length;
  }

  end(): string {
    const rest = this.#held;
    this.#held = '';
    return rest === '' ? '' : this.#masker.maskText(rest);
  }
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}
