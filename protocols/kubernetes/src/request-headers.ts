/**
 * What of the client's request headers reaches the cluster. Pure: raw header list in, raw header
 * list out; the HTTP module's `upstreamRequestHeaders` then drops hop-by-hop fields and the
 * caller's `Authorization`, and adds the gateway's own credentials last.
 */

/**
 * Dropped before anything else sees them:
 * - `Impersonate-User`, `-Group`, `-Uid`, `-Extra-*`: with the gateway's credentials they would act
 *   as anyone the gateway's account may impersonate;
 * - `X-Remote-User`, `-Group`, `-Extra-*`: the request-header authentication of front proxies,
 *   honoured when the cluster trusts the client certificate the gateway presents;
 * - `Content-Encoding` on requests is kept (and refused later for patches), `Accept` is rewritten.
 */
function dropped(name: string): boolean {
  return name.startsWith('impersonate-') || name.startsWith('x-remote-');
}

/** Accept entries the gateway cannot mask: protobuf, CBOR and YAML bodies are never asked for. */
const UNMASKABLE = /^application\/(vnd\.kubernetes\.protobuf|cbor|yaml|apply-patch\+cbor)\b/i;

/**
 * The Accept header without media types the gateway cannot read; undefined when nothing readable
 * is left (the client asked for protobuf only), which the caller answers with 406.
 */
export function readableAccept(accept: string | undefined): string | undefined {
  if (accept === undefined || accept.trim() === '') return '*/*';
  const kept = accept
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '' && !UNMASKABLE.test(part));
  return kept.length === 0 ? undefined : kept.join(',');
}

export interface ClientHeaders {
  /** Raw headers (name, value, …) safe to hand on. */
  readonly rawHeaders: string[];
  /** Names of the impersonation and request-header authentication fields that were removed. */
  readonly removed: string[];
}

export function clientHeadersForUpstream(rawHeaders: readonly string[], accept: string): ClientHeaders {
  const out: string[] = [];
  const removed: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    const lower = name.toLowerCase();
    if (dropped(lower)) {
      removed.push(lower);
      continue;
    }
    if (lower === 'accept') continue;
    out.push(name, rawHeaders[i + 1] as string);
  }
  out.push('Accept', accept);
  return { rawHeaders: out, removed: [...new Set(removed)] };
}
