import { ConfigError } from '@gatehouse/core';

/** Where and how requests are forwarded, from the connection's resolved `upstream` config. */
export interface UpstreamTarget {
  readonly secure: boolean;
  readonly hostname: string;
  readonly port: number;
  /** `host[:port]` as the Host header carries it. */
  readonly host: string;
  /** The URL's path without a trailing slash; `''` for the root. */
  readonly basePath: string;
  /** Gateway-held headers (credentials). Secret: never logged. */
  readonly headers: Readonly<Record<string, string>>;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE = /^[\t\u0020-\u007e\u0080-\u00ff]*$/;

/** Reads `{ url, headers }`; throws a ConfigError naming what is wrong (never a header value). */
export function parseUpstream(upstream: Readonly<Record<string, unknown>>): UpstreamTarget {
  const raw = upstream['url'];
  if (typeof raw !== 'string')
    throw new ConfigError('http upstream: `url` is required', { path: 'upstream.url' });
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`http upstream: "${raw}" is not a URL`, { path: 'upstream.url' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError('http upstream: `url` must be http:// or https://', { path: 'upstream.url' });
  }
  if (url.username !== '' || url.password !== '') {
    throw new ConfigError('http upstream: put credentials in `headers`, not in the URL', {
      path: 'upstream.url',
    });
  }
  if (url.search !== '' || url.hash !== '') {
    throw new ConfigError('http upstream: `url` must not have a query or fragment', { path: 'upstream.url' });
  }
  const headers: Record<string, string> = {};
  const given = upstream['headers'] ?? {};
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw new ConfigError('http upstream: `headers` must map names to values', { path: 'upstream.headers' });
  }
  for (const [name, value] of Object.entries(given)) {
    if (!TOKEN.test(name)) {
      throw new ConfigError(`http upstream: header name "${name}" is not valid`, {
        path: `upstream.headers.${name}`,
      });
    }
    if (typeof value !== 'string' || !FIELD_VALUE.test(value)) {
      throw new ConfigError(`http upstream: the value of header "${name}" is not a valid header value`, {
        path: `upstream.headers.${name}`,
      });
    }
    headers[name] = value;
  }
  const secure = url.protocol === 'https:';
  return {
    secure,
    hostname: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
    host: url.host,
    basePath: url.pathname.replace(/\/+$/, ''),
    headers,
  };
}

/** The upstream request-target: base path, then the client's (already canonical) path and query. */
export function upstreamPath(basePath: string, path: string, query: string | undefined): string {
  return `${basePath}${path}${query === undefined ? '' : `?${query}`}`;
}
