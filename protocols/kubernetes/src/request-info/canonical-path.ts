/**
 * Canonical request paths for the Kubernetes API. The API server classifies `req.URL.Path`, which Go
 * has already percent-decoded: `/api/v1/namespaces/a%2Fb/pods` becomes `namespaces/a/b/pods` there,
 * i.e. namespace `a`, resource `b`, name `pods`. Anything that can be read two ways is therefore
 * refused here, never normalised: encoded slashes and backslashes, dot segments, empty segments,
 * control characters, bad or overlong percent-encoding, and characters that Unicode compatibility
 * normalisation turns into path syntax.
 *
 * The same approach as the HTTP module's request-target check, with one deliberate difference: each
 * byte has exactly one accepted spelling, the one Go's `url.URL.EscapedPath` produces — which is
 * what kubectl and client-go send. Unreserved characters and `$&+,:;=@` appear raw; every other byte
 * (including `!'()*`) is percent-encoded with upper-case hex. That makes the decoded segments a
 * faithful, reversible description of the request: `encodePathSegment(decoded) === raw`.
 *
 * Pure: string in, segments out; throws only ProtocolError.
 */
import { ProtocolError } from '@gatehouse/core';

/** Longer paths are refused before any work: no kubectl request comes close. */
export const MAX_PATH_LENGTH = 8192;

export interface SplitPath {
  /** Percent-decoded segments; the leading empty segment and a trailing slash are not included. */
  readonly segments: readonly string[];
  /** The path ends with `/` after at least one segment (`/` alone has no segments and no slash). */
  readonly trailingSlash: boolean;
}

/** Bytes that Go's EscapedPath leaves raw in a path segment (besides `/`, the separator). */
function isRawPathByte(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x2d || // -
    c === 0x2e || // .
    c === 0x5f || // _
    c === 0x7e || // ~
    c === 0x24 || // $
    c === 0x26 || // &
    c === 0x2b || // +
    c === 0x2c || // ,
    c === 0x3a || // :
    c === 0x3b || // ;
    c === 0x3d || // =
    c === 0x40 // @
  );
}

const HEX = /^[0-9A-Fa-f]{2}$/;
const UPPER_HEX = /^[0-9A-F]{2}$/;
const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });
const utf8 = new TextEncoder();

/** Compatibility forms that fold into path syntax (`／` → `/`, `．．` → `..`). */
const DANGEROUS_AFTER_NFKC = /[/\\%?#\u0000-\u001f\u007f]/;

function refuse(reason: string): never {
  throw new ProtocolError(`kubernetes request path refused: ${reason}`, { details: { reason } });
}

function describeRawChar(c: number): string {
  if (c < 0x20 || c === 0x7f) return `control character 0x${c.toString(16).padStart(2, '0')}`;
  if (c > 0x7e) return 'raw non-ASCII character (percent-encode it as UTF-8)';
  if (c === 0x5c) return 'backslash';
  if (c === 0x20) return 'space';
  if (c === 0x3f) return 'query in the path (pass it separately)';
  if (c === 0x23) return 'fragment in the path';
  const hex = c.toString(16).toUpperCase();
  return `character "${String.fromCharCode(c)}" that must be percent-encoded (%${hex}), as client-go sends it`;
}

/** `.` and `..`, also with `;params`, which some intermediaries drop before resolving. */
function isDotSegment(text: string): boolean {
  const bare = text.split(';')[0];
  return bare === '.' || bare === '..';
}

function decodeSegment(raw: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c !== 0x25 /* % */) {
      if (!isRawPathByte(c)) refuse(describeRawChar(c));
      bytes.push(c);
      continue;
    }
    const hex = raw.slice(i + 1, i + 3);
    if (!HEX.test(hex)) refuse('invalid percent-encoding');
    if (!UPPER_HEX.test(hex)) refuse(`lower-case percent-encoding "%${hex}" (use upper case)`);
    const b = Number.parseInt(hex, 16);
    if (b === 0x2f) refuse('encoded slash (%2F)');
    if (b === 0x5c) refuse('encoded backslash (%5C)');
    if (b === 0x2e) refuse('encoded dot (%2E)');
    // A decoded `%` invites a second decoding somewhere else; no Kubernetes name contains one.
    if (b === 0x25) refuse('encoded percent sign (%25)');
    if (b < 0x20 || b === 0x7f) refuse(`encoded control character (%${hex})`);
    if (isRawPathByte(b))
      refuse(`needlessly encoded "${String.fromCharCode(b)}" (%${hex}); send it unencoded`);
    bytes.push(b);
    i += 2;
  }
  let text: string;
  try {
    text = fatalUtf8.decode(Uint8Array.from(bytes));
  } catch {
    // Overlong forms such as %C0%AE (a dot) are invalid UTF-8 and land here too.
    refuse('percent-encoding that is not valid UTF-8');
  }
  if (isDotSegment(text))
    refuse(text === '.' || text === '..' ? 'dot segment' : 'dot segment with parameters');
  for (const ch of text) {
    if (ch.charCodeAt(0) < 0x80) continue;
    const folded = ch.normalize('NFKC');
    if (DANGEROUS_AFTER_NFKC.test(folded)) {
      const code = (ch.codePointAt(0) as number).toString(16).toUpperCase();
      refuse(`character U+${code} that normalises to "${folded}"`);
    }
  }
  if (isDotSegment(text.normalize('NFKC'))) refuse('segment that normalises to a dot segment');
  return text;
}

/** Splits and decodes a canonical absolute path, or throws ProtocolError saying why it is not one. */
export function splitCanonicalPath(path: string): SplitPath {
  if (typeof path !== 'string' || !path.startsWith('/')) refuse('not an absolute path');
  if (path.length > MAX_PATH_LENGTH) refuse(`longer than ${MAX_PATH_LENGTH} characters`);
  if (path === '/') return { segments: [], trailingSlash: false };
  const raw = path.slice(1).split('/');
  const trailingSlash = raw[raw.length - 1] === '';
  if (trailingSlash) raw.pop();
  const segments = raw.map((segment) => {
    if (segment === '') refuse('empty path segment ("//")');
    return decodeSegment(segment);
  });
  return { segments, trailingSlash };
}

/** The one spelling of a decoded segment that `splitCanonicalPath` accepts. */
export function encodePathSegment(segment: string): string {
  let out = '';
  for (const b of utf8.encode(segment)) {
    out += isRawPathByte(b) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Joins decoded segments back into the path they were split from. */
export function joinPath(segments: readonly string[], trailingSlash: boolean): string {
  if (segments.length === 0) return '/';
  return `/${segments.map(encodePathSegment).join('/')}${trailingSlash ? '/' : ''}`;
}
