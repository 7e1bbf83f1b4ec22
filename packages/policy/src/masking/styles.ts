import { createHmac } from 'node:crypto';
import type { MaskStyle } from '../config-schema.js';

/** The `full` mask: fixed, so it reveals neither the value nor its length. */
export const FULL_MASK = '****';

/** `partial` keeps the last 4 letters/digits only when at least 8 are present (half stays hidden). */
const PARTIAL_KEEP = 4;
const PARTIAL_MIN = 8;

export function partialMask(value: string): string {
  let alnum = 0;
  for (let i = 0; i < value.length; i++) if (isAlnumCode(value.charCodeAt(i))) alnum++;
  let keep = alnum >= PARTIAL_MIN ? PARTIAL_KEEP : 0;
  // Walk from the end so the kept characters are the last ones; formatting characters
  // (spaces, dashes, dots, @) stay where they are, so `4111 1111 1111 1111` → `**** **** **** 1111`.
  const out: string[] = new Array(value.length);
  for (let i = value.length - 1; i >= 0; i--) {
    const c = value.charCodeAt(i);
    if (!isAlnumCode(c)) {
      out[i] = value[i] as string;
    } else if (keep > 0) {
      out[i] = value[i] as string;
      keep--;
    } else {
      out[i] = '*';
    }
  }
  return out.join('');
}

function isAlnumCode(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c >= 0xc0;
}

/** `hash`: HMAC-SHA-256 under the configured key, 64 bits shown: stable, keyed, not reversible. */
export function hashMask(key: string, value: string): string {
  return `h:${createHmac('sha256', key).update(value, 'utf8').digest('hex').slice(0, 16)}`;
}

export type StyleFn = (value: string, normalized: string) => string;

export function styleFunction(style: MaskStyle, hashKey: string | undefined): StyleFn {
  switch (style) {
    case 'full':
      return () => FULL_MASK;
    case 'partial':
      return (value) => partialMask(value);
    case 'hash': {
      if (hashKey === undefined) throw new Error('hash style without a key');
      return (_value, normalized) => hashMask(hashKey, normalized);
    }
  }
}
