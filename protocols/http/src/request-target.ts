/**
 * Request-target checks. The gateway judges a path and the upstream serves a path: if the two can
 * read the same bytes differently (`/a/../admin`, `/admin%2Fx`, `/%2e%2e/`, `\`, overlong UTF-8…),
 * a policy on `/admin/**` can be walked around. So a target is accepted only when it is already in
 * the one canonical spelling every RFC 3986 or WHATWG parser agrees on, and refused otherwise —
 * never normalised and forwarded, because "fixing" it means guessing which reading the upstream
 * will use.
 *
 * Pure: string in, verdict out; never throws.
 */

export type TargetCheck =
  | {
      readonly ok: true;
      /** The path exactly as received (already canonical). */
      readonly path: string;
      /** The query after `?`, verbatim; undefined when there is no `?`. */
      readonly query: string | undefined;
      /** Path segments percent-decoded, for messages; the leading empty segment is dropped. */
      readonly segments: readonly string[];
    }
  | { readonly ok: false; readonly reason: string };

const HEX = /^[0-9A-Fa-f]{2}$/;
const UPPER_HEX = /^[0-9A-F]{2}$/;

/** RFC 3986 `pchar` minus `%`: the characters a path segment may carry unencoded. */
function isSegmentChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x2d || // -
    c === 0x2e || // .
    c === 0x5f || // _
    c === 0x7e || // ~
    c === 0x21 || // !
    c === 0x24 || // $
    c === 0x26 || // &
    c === 0x27 || // '
    c === 0x28 || // (
    c === 0x29 || // )
    c === 0x2a || // *
    c === 0x2b || // +
    c === 0x2c || // ,
    c === 0x3b || // ;
    c === 0x3d || // =
    c === 0x3a || // :
    c === 0x40 // @
  );
}

function isUnreserved(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2d ||
    c === 0x2e ||
    c === 0x5f ||
    c === 0x7e
  );
}

function describeChar(c: number): string {
  if (c < 0x20 || c === 0x7f) return `control character 0x${c.toString(16).padStart(2, '0')}`;
  if (c > 0x7e) return 'raw non-ASCII character (percent-encode it as UTF-8)';
  if (c === 0x5c) return 'backslash';
  if (c === 0x20) return 'space';
  return `character "${String.fromCharCode(c)}" that must be percent-encoded`;
}

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Characters outside ASCII that Unicode compatibility normalisation (NFKC, used by some servers
 * and frameworks on paths) turns into path syntax: a fullwidth `．．` becomes `..`, `／` becomes `/`.
 */
const DANGEROUS_AFTER_NFKC = /[/\\%?#\u0000-\u001f\u007f]/;

/** `.` and `..`, also with `;params` (Tomcat and others drop the parameters before resolving). */
function isDotSegment(text: string): boolean {
  const bare = text.split(';')[0];
  return bare === '.' || bare === '..';
}

/**
 * Checks one path segment (without slashes) and returns its decoded text, or a reason.
 * `last` allows the empty final segment of a trailing slash (`/items/`) and of `/`.
 */
function checkSegment(raw: string, last: boolean): { text: string } | { reason: string } {
  if (raw === '') return last ? { text: '' } : { reason: 'empty path segment ("//")' };
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c !== 0x25 /* % */) {
      if (!isSegmentChar(c)) return { reason: describeChar(c) };
      bytes.push(c);
      continue;
    }
    const hex = raw.slice(i + 1, i + 3);
    if (!HEX.test(hex)) return { reason: 'invalid percent-encoding' };
    if (!UPPER_HEX.test(hex)) return { reason: `lower-case percent-encoding "%${hex}" (use upper case)` };
    const b = Number.parseInt(hex, 16);
    if (b === 0x2f) return { reason: 'encoded slash (%2F)' };
    if (b === 0x5c) return { reason: 'encoded backslash (%5C)' };
    if (b === 0x2e) return { reason: 'encoded dot (%2E)' };
    if (b < 0x20 || b === 0x7f) return { reason: `encoded control character (%${hex})` };
    if (isUnreserved(b)) {
      return { reason: `needlessly encoded "${String.fromCharCode(b)}" (%${hex}); send it unencoded` };
    }
    if (b === 0x25 && HEX.test(raw.slice(i + 3, i + 5))) return { reason: 'double percent-encoding (%25XX)' };
    bytes.push(b);
    i += 2;
  }
  let text: string;
  try {
    text = fatalUtf8.decode(Uint8Array.from(bytes));
  } catch {
    // Overlong forms such as %C0%AE (a dot) are invalid UTF-8 and land here too.
    return { reason: 'percent-encoding that is not valid UTF-8' };
  }
  if (isDotSegment(text)) {
    return { reason: text === '.' || text === '..' ? 'dot segment' : 'dot segment with parameters' };
  }
  for (const ch of text) {
    if (ch.charCodeAt(0) < 0x80) continue;
    const folded = ch.normalize('NFKC');
    if (DANGEROUS_AFTER_NFKC.test(folded)) {
      const code = (ch.codePointAt(0) as number).toString(16).toUpperCase();
      return { reason: `character U+${code} that normalises to "${folded}"` };
    }
  }
  if (isDotSegment(text.normalize('NFKC'))) return { reason: 'segment that normalises to a dot segment' };
  return { text };
}

function checkQuery(query: string): string | undefined {
  for (let i = 0; i < query.length; i++) {
    const c = query.charCodeAt(i);
    if (c === 0x25) {
      const hex = query.slice(i + 1, i + 3);
      if (!HEX.test(hex)) return 'invalid percent-encoding in query';
      if (hex === '00') return 'encoded NUL (%00) in query';
      i += 2;
      continue;
    }
    if (!isSegmentChar(c) && c !== 0x2f && c !== 0x3f) return `${describeChar(c)} in query`;
  }
  return undefined;
}

/** Checks a request-target as received on the request line. */
export function checkRequestTarget(target: string): TargetCheck {
  if (target === '*') return { ok: false, reason: 'asterisk-form request target' };
  if (!target.startsWith('/')) {
    return {
      ok: false,
      reason: /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(target)
        ? 'absolute-form request target (send the path only)'
        : 'request target is not an absolute path',
    };
  }
  if (target.startsWith('//')) return { ok: false, reason: 'empty path segment ("//")' };
  if (target.includes('#')) return { ok: false, reason: 'fragment in request target' };
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  const query = q === -1 ? undefined : target.slice(q + 1);
  const raw = path.split('/');
  const segments: string[] = [];
  for (let i = 1; i < raw.length; i++) {
    const verdict = checkSegment(raw[i] as string, i === raw.length - 1);
    if ('reason' in verdict) return { ok: false, reason: verdict.reason };
    segments.push(verdict.text);
  }
  if (query !== undefined) {
    const reason = checkQuery(query);
    if (reason !== undefined) return { ok: false, reason };
  }
  return { ok: true, path, query, segments };
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Methods that make a proxy reflect or tunnel instead of forward (TRACK is IIS's TRACE). */
const REFUSED_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);

/** Undefined when the method may be forwarded, else why not. */
export function checkMethod(method: string): string | undefined {
  if (!TOKEN.test(method)) return 'method is not an HTTP token';
  if (REFUSED_METHODS.has(method.toUpperCase())) return `method ${method} is not allowed through the gateway`;
  return undefined;
}
