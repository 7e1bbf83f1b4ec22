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

/** A field path, made once per distinct path and reused, with what masking its values needs. */
interface Field {
  readonly path: string;
  /** Whether `maskValue` must see the value; otherwise `maskText` alone is what it would do. */
  readonly named: boolean;
  /** Fields of the members of objects under this one, by key. */
  children: Map<string, Field> | undefined;
}

/**
 * What one masker answers about field paths and keys, shared by every response masked with it
 * (each response gets its own JsonMasker, but the same API's field paths repeat in all of them).
 * Only a masker's own answers are kept, so sharing cannot change a result.
 */
interface FieldTable {
  readonly top: Map<string, Field>;
  size: number;
  readonly keys: Map<string, string>;
}

const TABLES = new WeakMap<Masker, FieldTable>();

function fieldTable(masker: Masker): FieldTable {
  let table = TABLES.get(masker);
  if (table === undefined) {
    table = { top: new Map(), size: 0, keys: new Map() };
    TABLES.set(masker, table);
  }
  return table;
}

interface Frame {
  readonly kind: 'object' | 'array';
  /** The field this container is the value of; array elements are masked under it. */
  readonly field: Field | undefined;
  /** The field of the member being read, in an object (its key appended to `field`). */
  member: Field | undefined;
  /** In an object: the next string is a key (after `{` or `,`), not a value (after `:`). */
  expectKey: boolean;
}

const DEFAULT_MAX_TOKEN = 8 * 1024 * 1024;
/** Distinct field paths remembered; a document with more (random keys) starts the memory over. */
const FIELD_CACHE_LIMIT = 4096;
/** Keys this long or shorter have their masked form remembered: API keys repeat on every object. */
const KEY_CACHE_MAX_LENGTH = 64;
const KEY_CACHE_LIMIT = 4096;
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
 *
 * API responses are thousands of short strings, so the per-value cost is what counts. What the
 * masker tells about itself is used as the PostgreSQL module uses it: a field the masker says no
 * column rule covers (`coversColumn` false) gets `maskText` alone, which is what `maskValue` does
 * for it; a value `mayDetect` rules out skips the detectors; field paths are built once per
 * distinct path, and the masked form of short keys is remembered. A masker that leaves these
 * optional members out gets `maskValue` and `maskText` on everything.
 */
export class JsonMasker implements IncrementalMasker {
  readonly #masker: Masker;
  readonly #maxToken: number;
  readonly #stack: Frame[] = [];
  readonly #detectors: boolean;
  readonly #mayDetect: ((bytes: Uint8Array, start: number, end: number) => boolean) | undefined;
  readonly #covers: ((column: string) => boolean) | undefined;
  readonly #table: FieldTable;
  #pending = '';
  /** Where to resume looking for the end of the string token that `#pending` starts with. */
  #resume = 0;

  constructor(masker: Masker, options: JsonMaskerOptions = {}) {
    this.#masker = masker;
    this.#maxToken = options.maxToken ?? DEFAULT_MAX_TOKEN;
    this.#detectors = masker.hasDetectors ?? true;
    this.#mayDetect = masker.mayDetect?.bind(masker);
    this.#covers = masker.hasColumnRules === false ? () => false : masker.coversColumn?.bind(masker);
    this.#table = fieldTable(masker);
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

  /**
   * Emits complete tokens into `out`; returns where the incomplete tail starts. Unchanged tokens
   * are not copied one by one: `out` gets the unchanged stretches between replacements as slices.
   */
  #scan(s: string, out: string[], final: boolean): number {
    const resume = this.#resume;
    this.#resume = 0;
    /** Start of what is read but not yet emitted (all of it unchanged). */
    let copied = 0;
    const emit = (from: number, to: number, replacement: string): void => {
      if (from > copied) out.push(s.slice(copied, from));
      out.push(replacement);
      copied = to;
    };
    const stopAt = (at: number): number => {
      if (at > copied) out.push(s.slice(copied, at));
      return at;
    };
    let i = 0;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c === 0x22 /* " */) {
        const end = this.#stringEnd(s, i === 0 && resume > 0 ? resume : i + 1);
        if (end === -1) {
          // The tail kept in `#pending` starts at this quote; make the resume point relative to it.
          this.#resume -= i;
          return stopAt(i);
        }
        const masked = this.#string(s, i, end + 1);
        if (masked !== undefined) emit(i, end + 1, masked);
        i = end + 1;
        continue;
      }
      if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
        const kind = c === 0x7b ? 'object' : 'array';
        this.#stack.push({ kind, field: this.#field(), member: undefined, expectKey: kind === 'object' });
        i++;
        continue;
      }
      if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
        this.#stack.pop();
        i++;
        continue;
      }
      if (c === 0x3a /* : */ || c === 0x2c /* , */) {
        const top = this.#stack.at(-1);
        if (top?.kind === 'object') top.expectKey = c === 0x2c;
        i++;
        continue;
      }
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
        // Whitespace between tokens is never masked, and need not wait for the next piece (it ends
        // NDJSON lines and watch events, which clients read as they come).
        i = firstNonSpace(s, i);
        continue;
      }
      RUN_STOP.lastIndex = i;
      const next = RUN_STOP.exec(s);
      // A literal may continue in the next piece.
      if (next === null && !final) return stopAt(i);
      const j = next === null ? s.length : next.index;
      const masked = this.#bare(s.slice(i, j));
      if (masked !== undefined) emit(i, j, masked);
      i = j;
    }
    return stopAt(s.length);
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

  /** The field of the current value (the member's, or the array's for its elements). */
  #field(): Field | undefined {
    const top = this.#stack.at(-1);
    if (top === undefined) return undefined;
    if (top.kind === 'array' || top.member === undefined) return top.field;
    return top.member;
  }

  /**
   * The dotted path of keys to a member (`customer.email`; array indexes left out), which masking
   * rules match as written or by its last field. A path grown absurdly long by deep nesting falls
   * back to the key alone.
   */
  #memberField(parent: Field | undefined, key: string): Field {
    const table = this.#table;
    let siblings = table.top;
    if (parent !== undefined) {
      parent.children ??= new Map();
      siblings = parent.children;
    }
    const known = siblings.get(key);
    if (known !== undefined) return known;
    let path = parent === undefined ? key : `${parent.path}.${key}`;
    if (path.length > MAX_FIELD_PATH) path = key;
    const field: Field = {
      path,
      named: this.#covers === undefined || this.#covers(path),
      children: undefined,
    };
    if (table.size >= FIELD_CACHE_LIMIT) {
      // Fields already handed out stay valid; only the memory of them starts over.
      table.top.clear();
      table.size = 0;
    } else {
      siblings.set(key, field);
      table.size++;
    }
    return field;
  }

  #maskValue(field: Field | undefined, value: string): string {
    if (field?.named === true) return this.#masker.maskValue(field.path, value);
    if (field === undefined && this.#covers === undefined) return this.#masker.maskValue(undefined, value);
    return this.#maskText(value);
  }

  #maskText(text: string): string {
    if (!this.#detectors || !this.#mayDetectText(text)) return text;
    return this.#masker.maskText(text);
  }

  #maskKey(key: string): string {
    if (key.length > KEY_CACHE_MAX_LENGTH) return this.#maskText(key);
    const keys = this.#table.keys;
    let masked = keys.get(key);
    if (masked === undefined) {
      masked = this.#maskText(key);
      if (keys.size >= KEY_CACHE_LIMIT) keys.clear();
      keys.set(key, masked);
    }
    return masked;
  }

  /** The masker's byte prefilter over a string: true whenever in doubt. */
  #mayDetectText(text: string): boolean {
    const filter = this.#mayDetect;
    if (filter === undefined) return true;
    const n = text.length;
    if (n <= SCRATCH.length) {
      let i = 0;
      for (; i < n; i++) {
        const c = text.charCodeAt(i);
        if (c >= 0x80) break;
        SCRATCH[i] = c;
      }
      if (i === n) return filter(SCRATCH, 0, n);
    }
    const bytes = Buffer.from(text, 'utf8');
    return filter(bytes, 0, bytes.length);
  }

  /** The string token `s[start, end)` masked, or undefined when it stays as it is. */
  #string(s: string, start: number, end: number): string | undefined {
    let value = s.slice(start + 1, end - 1);
    if (value.indexOf('\\') !== -1) {
      const token = s.slice(start, end);
      try {
        value = JSON.parse(token) as string;
      } catch {
        return changed(token, this.#masker.maskText(token));
      }
    }
    const top = this.#stack.at(-1);
    const masked =
      top?.kind === 'object' && top.expectKey ? this.#key(top, value) : this.#maskValue(this.#field(), value);
    return masked === value ? undefined : JSON.stringify(masked);
  }

  #key(top: Frame, key: string): string {
    top.member = this.#memberField(top.field, key);
    return this.#maskKey(key);
  }

  /** A run of bare literal text (a number, `true`, garbage) masked, or undefined when unchanged. */
  #bare(run: string): string | undefined {
    const t = run.trim();
    if (t === '' || t === 'true' || t === 'false' || t === 'null') return undefined;
    if (!NUMBER.test(t)) return changed(run, this.#masker.maskText(run));
    const masked = this.#maskValue(this.#field(), t);
    if (masked === t) return undefined;
    const lead = run.slice(0, run.indexOf(t));
    return `${lead}${JSON.stringify(masked)}${run.slice(lead.length + t.length)}`;
  }
}

function changed(before: string, after: string): string | undefined {
  return after === before ? undefined : after;
}

/** Masking is synchronous: one scratch buffer serves every short ASCII string. */
const SCRATCH = new Uint8Array(256);

function firstNonSpace(s: string, from: number): number {
  let k = from;
  while (k < s.length) {
    const c = s.charCodeAt(k);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    k++;
  }
  return k;
}
