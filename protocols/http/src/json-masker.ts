import type { Masker } from '@gatehouse/core';
import type { IncrementalMasker } from './text-masker.js';

/** A single JSON token grew past the limit; the response is cut rather than sent unmasked. */
export class MaskingLimitError extends Error {
  constructor(limit: number) {
    super(`a single value in the response exceeds ${limit} characters and cannot be masked`);
    this.name = 'MaskingLimitError';
  }
}

export interface JsonMaskerOptions {
  /** Longest single token (string or bare literal) held while waiting for its end. */
  readonly maxToken?: number;
}

interface Frame {
  readonly kind: 'object' | 'array';
  /** The field path this container is the value of; array elements are masked under it. */
  readonly field: string | undefined;
  /** The key of the member being read, in an object. */
  key: string | undefined;
  /** In an object: the next string is a key (after `{` or `,`), not a value (after `:`). */
  expectKey: boolean;
}

const DEFAULT_MAX_TOKEN = 8 * 1024 * 1024;
const MAX_FIELD_PATH = 512;
const STRING_STOP = /["\\]/g;
const RUN_STOP = /["{}[\]:,]/g;
const NUMBER = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * Masks a JSON stream token by token instead of parse → mask → stringify, so that:
 * - everything that is not masked leaves byte for byte (no float reformatting, no precision loss
 *   on 64-bit ids, key order and whitespace kept);
 * - bodies of any size stream: only the token being read is held, never the document;
 * - NDJSON and concatenated documents work the same way.
 *
 * Every string value goes through `maskValue(field, value)` with the path of keys leading to it as
 * the field name (`customer.email`; array elements use the path of their array); numbers too, so a
 * card number sent as a JSON number is caught. Keys go through `maskText`. Anything that is not JSON (a body mislabelled as
 * JSON, garbage between documents) goes through `maskText` in runs, so malformed input is never
 * a way around masking.
 */
export class JsonMasker implements IncrementalMasker {
  readonly #masker: Masker;
  readonly #maxToken: number;
  readonly #stack: Frame[] = [];
  #pending = '';
  /** Where to resume looking for the end of the string token that `#pending` starts with. */
  #resume = 0;

  constructor(masker: Masker, options: JsonMaskerOptions = {}) {
    this.#masker = masker;
    this.#maxToken = options.maxToken ?? DEFAULT_MAX_TOKEN;
  }

  push(text: string): string {
    if (text === '') return '';
    const input = this.#pending + text;
    const out: string[] = [];
    const stop = this.#scan(input, out, false);
    this.#pending = input.slice(stop);
    if (this.#pending.length > this.#maxToken) throw new MaskingLimitError(this.#maxToken);
    return out.join('');
  }

  end(): string {
    const input = this.#pending;
    this.#pending = '';
    const out: string[] = [];
    const stop = this.#scan(input, out, true);
    // An unterminated string: not JSON, so it is text to the detectors.
    if (stop < input.length) out.push(this.#masker.maskText(input.slice(stop)));
    return out.join('');
  }

  /** Emits complete tokens into `out`; returns where the incomplete tail starts. */
  #scan(s: string, out: string[], final: boolean): number {
    const resume = this.#resume;
    this.#resume = 0;
    let i = 0;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c === 0x22 /* " */) {
        const end = this.#stringEnd(s, i === 0 && resume > 0 ? resume : i + 1);
        if (end === -1) {
          // The tail kept in `#pending` starts at this quote; make the resume point relative to it.
          this.#resume -= i;
          return i;
        }
        out.push(this.#string(s.slice(i, end + 1)));
        i = end + 1;
        continue;
      }
      if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
        const kind = c === 0x7b ? 'object' : 'array';
        this.#stack.push({ kind, field: this.#field(), key: undefined, expectKey: kind === 'object' });
        out.push(s[i] as string);
        i++;
        continue;
      }
      if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
        this.#stack.pop();
        out.push(s[i] as string);
        i++;
        continue;
      }
      if (c === 0x3a /* : */ || c === 0x2c /* , */) {
        const top = this.#stack.at(-1);
        if (top?.kind === 'object') top.expectKey = c === 0x2c;
        out.push(s[i] as string);
        i++;
        continue;
      }
      RUN_STOP.lastIndex = i;
      const next = RUN_STOP.exec(s);
      if (next === null && !final) {
        // A literal may continue in the next piece; whitespace before it need not wait (it ends
        // NDJSON lines and watch events, which clients read as they come).
        const k = firstNonSpace(s, i);
        out.push(s.slice(i, k));
        return k;
      }
      const j = next === null ? s.length : next.index;
      out.push(this.#bare(s.slice(i, j)));
      i = j;
    }
    return s.length;
  }

  /** Index of the closing quote of the string opened before `from`, or -1 (sets `#resume`). */
  #stringEnd(s: string, from: number): number {
    let k = from;
    for (;;) {
      STRING_STOP.lastIndex = k;
      const m = STRING_STOP.exec(s);
      if (m === null) {
        this.#resume = s.length;
        return -1;
      }
      if (s.charCodeAt(m.index) === 0x22) return m.index;
      if (m.index + 1 >= s.length) {
        // A backslash ends the piece: what it escapes comes next, so resume at the backslash.
        this.#resume = m.index;
        return -1;
      }
      k = m.index + 2;
    }
  }

  /**
   * The dotted path of keys to the current value (`customer.email`; array indexes left out), which
   * masking rules match as written or by its last field. A path grown absurdly long by deep nesting
   * falls back to the key alone.
   */
  #field(): string | undefined {
    const top = this.#stack.at(-1);
    if (top === undefined) return undefined;
    if (top.kind === 'array' || top.key === undefined) return top.field;
    if (top.field === undefined) return top.key;
    const path = `${top.field}.${top.key}`;
    return path.length > MAX_FIELD_PATH ? top.key : path;
  }

  #string(token: string): string {
    let value: string;
    if (token.indexOf('\\') === -1) value = token.slice(1, -1);
    else {
      try {
        value = JSON.parse(token) as string;
      } catch {
        return this.#masker.maskText(token);
      }
    }
    const top = this.#stack.at(-1);
    if (top?.kind === 'object' && top.expectKey) {
      top.key = value;
      const masked = this.#masker.maskText(value);
      return masked === value ? token : JSON.stringify(masked);
    }
    const masked = this.#masker.maskValue(this.#field(), value);
    return masked === value ? token : JSON.stringify(masked);
  }

  #bare(run: string): string {
    const t = run.trim();
    if (t === '' || t === 'true' || t === 'false' || t === 'null') return run;
    if (!NUMBER.test(t)) return this.#masker.maskText(run);
    const masked = this.#masker.maskValue(this.#field(), t);
    if (masked === t) return run;
    const lead = run.slice(0, run.indexOf(t));
    return `${lead}${JSON.stringify(masked)}${run.slice(lead.length + t.length)}`;
  }
}

function firstNonSpace(s: string, from: number): number {
  let k = from;
  while (k < s.length) {
    const c = s.charCodeAt(k);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    k++;
  }
  return k;
}
