/**
 * Query parameters as the API server reads them, with the ambiguities refused.
 *
 * Go's `url.ParseQuery` drops any pair containing `;` and any pair with a bad escape, and the
 * API server's parameter codec takes the FIRST value of a single-valued option, while many proxies
 * and frameworks take the last. A request that means one thing to the gateway and another to the
 * server must not pass, so: `;`, bad escapes, NUL, non-UTF-8 and raw characters outside RFC 3986
 * are refused, and so is a second copy of any single-valued option the gateway reads or that
 * changes what the request does. Keys are case-sensitive on the server (`DryRun=All` is ignored);
 * a key that differs from one of those options only by case is refused rather than guessed at.
 *
 * Pure: throws only ProtocolError.
 */
import { ProtocolError } from '@gatehouse/core';

/** Longer queries are refused: an exec command line in a URL has no business being this long. */
export const MAX_QUERY_LENGTH = 128 * 1024;
export const MAX_QUERY_PARAMS = 1000;

/** Single-valued options that decide the verb, the object, or what an exec/attach/log does. */
const SINGLE_VALUED = [
  'watch',
  'dryRun',
  'fieldSelector',
  'labelSelector',
  'container',
  'stdin',
  'stdout',
  'stderr',
  'tty',
  'follow',
  'previous',
] as const;

/** Options the server reads as lists: every value counts, so repeats are the normal spelling. */
const MULTI_VALUED = ['command', 'ports'] as const;

const KNOWN_BY_LOWER = new Map<string, string>(
  [...SINGLE_VALUED, ...MULTI_VALUED].map((k) => [k.toLowerCase(), k]),
);

export type SingleValuedParam = (typeof SINGLE_VALUED)[number];
export type MultiValuedParam = (typeof MULTI_VALUED)[number];

/** Decoded pairs in request order. */
export interface QueryParams {
  readonly pairs: readonly (readonly [string, string])[];
  /** The only value of a single-valued option, or undefined when absent. */
  single(name: SingleValuedParam): string | undefined;
  /** Every value of an option, in order. */
  all(name: MultiValuedParam): readonly string[];
}

function refuse(reason: string): never {
  throw new ProtocolError(`kubernetes request query refused: ${reason}`, { details: { reason } });
}

/** RFC 3986 query characters minus `;`, which Go's ParseQuery treats as an error and drops. */
function isRawQueryChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2d || // -
    c === 0x2e || // .
    c === 0x5f || // _
    c === 0x7e || // ~
    c === 0x21 || // !
    c === 0x24 || // $
    c === 0x26 || // & (separator)
    c === 0x27 || // '
    c === 0x28 || // (
    c === 0x29 || // )
    c === 0x2a || // *
    c === 0x2b || // + (space)
    c === 0x2c || // ,
    c === 0x3d || // =
    c === 0x3a || // :
    c === 0x40 || // @
    c === 0x2f || // /
    c === 0x3f // ?
  );
}

const HEX = /^[0-9A-Fa-f]{2}$/;
const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

function describeRawChar(c: number): string {
  if (c === 0x3b) return '";" (the API server drops such pairs; encode it as %3B)';
  if (c === 0x23) return 'fragment';
  if (c < 0x20 || c === 0x7f) return `control character 0x${c.toString(16).padStart(2, '0')}`;
  if (c > 0x7e) return 'raw non-ASCII character';
  if (c === 0x20) return 'space';
  return `character "${String.fromCharCode(c)}" that must be percent-encoded`;
}

/** `application/x-www-form-urlencoded` decoding as Go's QueryUnescape does it, minus its leniency. */
function decodeComponent(raw: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x2b) {
      bytes.push(0x20);
    } else if (c === 0x25) {
      const hex = raw.slice(i + 1, i + 3);
      if (!HEX.test(hex)) refuse('invalid percent-encoding');
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(c);
    }
  }
  try {
    return fatalUtf8.decode(Uint8Array.from(bytes));
  } catch {
    refuse('percent-encoding that is not valid UTF-8');
  }
}

function parseRaw(query: string): [string, string][] {
  if (query.length > MAX_QUERY_LENGTH) refuse(`longer than ${MAX_QUERY_LENGTH} characters`);
  // URLSearchParams would strip it, Go would not: the caller must pass what follows the `?`.
  if (query.startsWith('?')) refuse('starts with "?" (pass the part after the "?")');
  for (let i = 0; i < query.length; i++) {
    const c = query.charCodeAt(i);
    if (c !== 0x25 && !isRawQueryChar(c)) refuse(describeRawChar(c));
  }
  const pairs: [string, string][] = [];
  for (const piece of query.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const key = decodeComponent(eq === -1 ? piece : piece.slice(0, eq));
    const value = eq === -1 ? '' : decodeComponent(piece.slice(eq + 1));
    pairs.push([key, value]);
  }
  return pairs;
}

/**
 * Parses a raw query (what follows `?`, without it) or takes an already parsed URLSearchParams.
 * Prefer the raw string: a URLSearchParams has already lost what `;` and bad escapes looked like.
 */
export function parseQuery(query: string | URLSearchParams): QueryParams {
  let pairs: [string, string][];
  if (typeof query === 'string') {
    pairs = parseRaw(query);
  } else if (query instanceof URLSearchParams) {
    pairs = [...query.entries()];
    let size = 0;
    for (const [k, v] of pairs) size += k.length + v.length + 2;
    if (size > MAX_QUERY_LENGTH) refuse(`longer than ${MAX_QUERY_LENGTH} characters`);
  } else {
    refuse('query is neither a string nor URLSearchParams');
  }
  if (pairs.length > MAX_QUERY_PARAMS) refuse(`more than ${MAX_QUERY_PARAMS} parameters`);

  const byKey = new Map<string, string[]>();
  for (const [key, value] of pairs) {
    // Container runtimes pass argv as C strings: a NUL would cut the command the gateway judged.
    if (key.includes('\u0000') || value.includes('\u0000')) refuse('NUL character');
    const known = KNOWN_BY_LOWER.get(key.toLowerCase());
    if (known !== undefined && known !== key) {
      refuse(`parameter "${key}" differs from "${known}" only by case (the API server ignores it)`);
    }
    const list = byKey.get(key);
    if (list === undefined) byKey.set(key, [value]);
    else list.push(value);
  }
  for (const name of SINGLE_VALUED) {
    if ((byKey.get(name)?.length ?? 0) > 1) {
      refuse(`parameter "${name}" given more than once (the API server reads the first, others the last)`);
    }
  }
  return {
    pairs,
    single: (name) => byKey.get(name)?.[0],
    all: (name) => byKey.get(name) ?? [],
  };
}

/**
 * A boolean option. The server reads anything but `0`/`false` (case-folded) as true — including
 * an empty value and `no` — so only the four unambiguous spellings are accepted.
 */
export function readBoolean(params: QueryParams, name: SingleValuedParam): boolean | undefined {
  const value = params.single(name);
  if (value === undefined) return undefined;
  const lower = value.replace(/[A-Z]/g, (c) => c.toLowerCase());
  if (lower === 'true' || lower === '1') return true;
  if (lower === 'false' || lower === '0') return false;
  refuse(`parameter "${name}" is not true, false, 1 or 0 (the API server reads any other value as true)`);
}
