/**
 * Which responses are masked, and how. Pure: response headers in, a plan out.
 */

export type BodyDecoding = 'gzip' | 'deflate' | 'br';

export type MaskingPlan =
  /** Binary or empty: forwarded byte for byte. */
  | { readonly kind: 'none' }
  /** JSON: every string (and number) masked with the name of the field it sits under. */
  | { readonly kind: 'json'; readonly decode: BodyDecoding | undefined }
  /** Text: detectors over a sliding window. `latin1` keeps single-byte charsets byte-exact. */
  | { readonly kind: 'text'; readonly decode: BodyDecoding | undefined; readonly encoding: 'utf8' | 'latin1' }
  /** Maskable, but compressed in a way the gateway cannot read: refused rather than leaked. */
  | { readonly kind: 'refuse'; readonly reason: string };

const JSON_TYPES = new Set([
  'application/json',
  'text/json',
  'application/x-ndjson',
  'application/ndjson',
  'application/jsonl',
  'application/x-jsonlines',
  'application/json-seq',
]);

const TEXT_TYPES = new Set([
  'application/xml',
  'application/javascript',
  'application/ecmascript',
  'application/x-www-form-urlencoded',
  'application/graphql',
  'application/yaml',
  'application/x-yaml',
  'application/toml',
  'application/csv',
  'application/sql',
  'application/x-sh',
]);

const UTF8_CHARSETS = new Set(['utf-8', 'utf8', 'us-ascii', 'ascii']);

/** Statuses and methods whose responses carry no body (RFC 9110 §6.4.1). */
export function responseHasBody(method: string, status: number): boolean {
  return method !== 'HEAD' && status !== 204 && status !== 304 && !(status >= 100 && status < 200);
}

function parseContentType(value: string): { type: string; charset: string | undefined } {
  const [mime = '', ...params] = value.split(';');
  let charset: string | undefined;
  for (const p of params) {
    const [k, v] = p.split('=');
    if (k?.trim().toLowerCase() === 'charset' && v !== undefined) {
      charset = v.trim().replace(/^"|"$/g, '').toLowerCase();
    }
  }
  return { type: mime.trim().toLowerCase(), charset };
}

function decodingFor(
  contentEncoding: string | undefined,
): BodyDecoding | undefined | { unsupported: string } {
  const enc = (contentEncoding ?? '').trim().toLowerCase();
  if (enc === '' || enc === 'identity') return undefined;
  if (enc === 'gzip' || enc === 'x-gzip') return 'gzip';
  if (enc === 'deflate') return 'deflate';
  if (enc === 'br') return 'br';
  return { unsupported: enc };
}

/**
 * A missing Content-Type is treated as text: whatever it is, the detectors look at it, because
 * "unknown" must not mean "unmasked".
 */
export function maskingPlan(
  contentType: string | undefined,
  contentEncoding: string | undefined,
): MaskingPlan {
  const { type, charset } = parseContentType(contentType ?? '');
  let kind: 'json' | 'text' | 'none';
  if (type === '' || type.startsWith('text/') || TEXT_TYPES.has(type) || type.endsWith('+xml')) kind = 'text';
  else if (JSON_TYPES.has(type) || type.endsWith('+json')) kind = 'json';
  else kind = 'none';
  if (type === 'text/json') kind = 'json';
  if (kind === 'none') return { kind };
  const decode = decodingFor(contentEncoding);
  if (typeof decode === 'object') {
    return {
      kind: 'refuse',
      reason: `cannot mask a ${type || 'untyped'} response with Content-Encoding ${decode.unsupported}`,
    };
  }
  if (kind === 'json') return { kind, decode };
  // Detectors read ASCII-compatible text; a wide charset would hide every value from them.
  if (charset !== undefined && /^(utf-?16|utf-?32|ucs-?2|ucs-?4)/.test(charset)) {
    return { kind: 'refuse', reason: `cannot mask text in charset ${charset}` };
  }
  const encoding = charset === undefined || UTF8_CHARSETS.has(charset) ? 'utf8' : 'latin1';
  return { kind, decode, encoding };
}
