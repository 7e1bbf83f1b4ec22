/**
 * Header rewriting between the client and the upstream. Pure: raw header lists in, header objects
 * out, so every rule sits in one table-tested place.
 */

export type HeaderMap = Record<string, string | string[]>;

/** RFC 9110 §7.6.1 hop-by-hop fields, plus the non-standard ones proxies still meet. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Request fields the gateway never passes on:
 * - the caller's credentials: the upstream gets the gateway's own, never the caller's token;
 * - `host` and the forwarding fields, which the gateway sets itself so a client cannot spoof them;
 * - `accept-encoding`, replaced by `identity` so bodies arrive in a form masking can read;
 * - `range`/`if-range`: a partial body could cut a sensitive value in half where masking cannot
 *   see it, so responses are always whole;
 * - `expect`: the gateway already answered `100-continue` to the client before judging the request.
 */
const DROPPED_REQUEST = new Set([
  'authorization',
  'proxy-authorization',
  'host',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-real-ip',
  'accept-encoding',
  'range',
  'if-range',
  'expect',
]);

/** Response fields that only describe the gateway↔upstream hop or the proxy's own credentials. */
const DROPPED_RESPONSE = new Set(['proxy-authenticate', 'proxy-authentication-info']);

/** Fields that describe the exact upstream bytes and would lie once masking rewrites the body. */
const BODY_DESCRIBING = new Set([
  'content-length',
  'etag',
  'content-md5',
  'digest',
  'content-digest',
  'repr-digest',
  'accept-ranges',
  'content-range',
]);

/** Field names listed in every `Connection` header (they are hop-by-hop too). */
function connectionTokens(rawHeaders: readonly string[]): Set<string> {
  const tokens = new Set<string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] as string).toLowerCase() !== 'connection') continue;
    for (const t of (rawHeaders[i + 1] as string).split(',')) {
      const name = t.trim().toLowerCase();
      if (name !== '') tokens.add(name);
    }
  }
  return tokens;
}

function add(map: HeaderMap, name: string, value: string): void {
  const existing = map[name];
  if (existing === undefined) map[name] = value;
  else if (Array.isArray(existing)) existing.push(value);
  else map[name] = [existing, value];
}

export interface UpstreamHeaderInput {
  /** `req.rawHeaders`: name, value, name, value… */
  readonly rawHeaders: readonly string[];
  /** The client's address, for X-Forwarded-For. */
  readonly clientAddress: string;
  /** The scheme the client used to reach the gateway. */
  readonly clientProto: 'http' | 'https';
  /** `host[:port]` of the upstream, for the Host header. */
  readonly upstreamHost: string;
  /** The gateway-held headers from the connection's upstream config (credentials). */
  readonly configured: Readonly<Record<string, string>>;
}

/** The headers sent upstream for one client request. */
export function upstreamRequestHeaders(input: UpstreamHeaderInput): HeaderMap {
  const { rawHeaders } = input;
  const listed = connectionTokens(rawHeaders);
  const configured = new Map(Object.entries(input.configured).map(([k, v]) => [k.toLowerCase(), v]));
  const out: HeaderMap = {};
  let clientHost: string | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    const value = rawHeaders[i + 1] as string;
    if (name === 'host') clientHost ??= value;
    if (HOP_BY_HOP.has(name) || listed.has(name) || DROPPED_REQUEST.has(name) || configured.has(name)) {
      continue;
    }
    add(out, name, value);
  }
  out['host'] = input.upstreamHost;
  out['x-forwarded-for'] = input.clientAddress;
  out['x-forwarded-proto'] = input.clientProto;
  if (clientHost !== undefined) out['x-forwarded-host'] = clientHost;
  out['accept-encoding'] = 'identity';
  // Configured headers come last and win: a client cannot replace the gateway's credentials.
  for (const [name, value] of configured) out[name] = value;
  return out;
}

export interface ClientHeaderOptions {
  /** The body is rewritten by masking: byte-describing fields no longer hold. */
  readonly bodyRewritten: boolean;
  /** The body was decompressed for masking and is sent without Content-Encoding. */
  readonly decoded: boolean;
}

/** The headers sent to the client for an upstream response. */
export function clientResponseHeaders(
  rawHeaders: readonly string[],
  options: ClientHeaderOptions,
): HeaderMap {
  const listed = connectionTokens(rawHeaders);
  const out: HeaderMap = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    if (HOP_BY_HOP.has(name) || listed.has(name) || DROPPED_RESPONSE.has(name)) continue;
    if (options.bodyRewritten && BODY_DESCRIBING.has(name)) continue;
    if (options.decoded && name === 'content-encoding') continue;
    add(out, name, rawHeaders[i + 1] as string);
  }
  return out;
}

/** The first value of a header in a raw list, lower-cased name match. */
export function rawHeader(rawHeaders: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] as string).toLowerCase() === name) return rawHeaders[i + 1] as string;
  }
  return undefined;
}

/** How many times a header occurs in a raw list. */
export function headerCount(rawHeaders: readonly string[], name: string): number {
  let n = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if ((rawHeaders[i] as string).toLowerCase() === name) n++;
  return n;
}

/** Distinct header names, lower-cased, in first-seen order: what policy matches header presence on. */
export function headerNames(rawHeaders: readonly string[]): string[] {
  const names = new Set<string>();
  for (let i = 0; i < rawHeaders.length; i += 2) names.add((rawHeaders[i] as string).toLowerCase());
  return [...names];
}
