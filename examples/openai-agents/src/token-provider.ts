/**
 * Where the agent's Gatehouse token comes from. Copy this file into your own agent: it has no
 * dependency besides Node's `fetch`.
 *
 * - `StaticTokenProvider`: a token handed to the process (`GATEHOUSE_TOKEN`), for a quick try or
 *   when something outside the process refreshes it. It cannot be renewed.
 * - `ClientCredentialsTokenProvider`: the OAuth 2.0 client-credentials grant (RFC 6749 §4.4)
 *   against your IdP's token endpoint — or, locally, against Gatehouse's development token
 *   endpoint (`POST /oauth/token` on the admin API). The token is cached and fetched again before
 *   it expires, so a long-running agent never presents an expired token.
 */

export interface TokenProvider {
  /** A token that is valid now. */
  token(): Promise<string>;
}

export class StaticTokenProvider implements TokenProvider {
  readonly #token: string;

  constructor(token: string) {
    if (token.trim() === '') throw new Error('the Gatehouse token is empty');
    this.#token = token.trim();
  }

  async token(): Promise<string> {
    return this.#token;
  }
}

export interface ClientCredentialsOptions {
  /** The IdP's token endpoint, e.g. `https://login.example.com/oauth2/token`. */
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Sent as `scope` when set (some IdPs require one, e.g. `api://gatehouse/.default`). */
  readonly scope?: string | undefined;
  /** Sent as `audience` when set (Auth0 and others select the token's `aud` this way). */
  readonly audience?: string | undefined;
  /**
   * Fetch a new token when less than this remains (default 60 s, and never less than a tenth
   * of the token's lifetime), so that a token is not about to expire while a query is in flight.
   */
  readonly refreshBeforeMs?: number;
  /** Give up on one token request after this long (default 10 s). */
  readonly timeoutMs?: number;
  /** For tests. */
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
}

interface Cached {
  readonly token: string;
  readonly expiresAt: number;
  readonly refreshAt: number;
}

/** Used when the IdP says neither `expires_in` nor puts an `exp` in the token. */
const FALLBACK_LIFETIME_MS = 5 * 60_000;

export class ClientCredentialsTokenProvider implements TokenProvider {
  readonly #opts: ClientCredentialsOptions;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;
  #cached: Cached | undefined;
  #inFlight: Promise<Cached> | undefined;

  constructor(opts: ClientCredentialsOptions) {
    const url = new URL(opts.tokenUrl);
    if (url.protocol !== 'https:' && !isLoopback(url.hostname)) {
      // The client secret would cross the network in the clear.
      throw new Error(`the token endpoint ${url.origin} must use https (plain http only to loopback)`);
    }
    if (opts.clientId === '' || opts.clientSecret === '') {
      throw new Error('a client id and a client secret are required for the client-credentials grant');
    }
    this.#opts = opts;
    this.#fetch = opts.fetch ?? fetch;
    this.#now = opts.now ?? Date.now;
  }

  async token(): Promise<string> {
    const now = this.#now();
    const cached = this.#cached;
    if (cached !== undefined && now < cached.refreshAt) return cached.token;
    this.#inFlight ??= this.#request().finally(() => {
      this.#inFlight = undefined;
    });
    try {
      this.#cached = await this.#inFlight;
      return this.#cached.token;
    } catch (err) {
      // An IdP hiccup during early renewal is not fatal while the old token still works.
      if (cached !== undefined && this.#now() < cached.expiresAt) return cached.token;
      throw err;
    }
  }

  async #request(): Promise<Cached> {
    const { tokenUrl, clientId, clientSecret, scope, audience } = this.#opts;
    const body = new URLSearchParams({ grant_type: 'client_credentials' });
    if (scope !== undefined && scope !== '') body.set('scope', scope);
    if (audience !== undefined && audience !== '') body.set('audience', audience);
    const started = this.#now();
    let res: Response;
    try {
      res = await this.#fetch(tokenUrl, {
        method: 'POST',
        headers: {
          authorization: `Basic ${basicCredentials(clientId, clientSecret)}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: body.toString(),
        redirect: 'error',
        signal: AbortSignal.timeout(this.#opts.timeoutMs ?? 10_000),
      });
    } catch (err) {
      throw new Error(`token endpoint ${new URL(tokenUrl).origin} unreachable: ${(err as Error).message}`);
    }
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // Reported below by what is missing.
    }
    if (!res.ok) {
      // The error and its description come from the endpoint; the request, with the secret, is not repeated.
      const why = [json['error'], json['error_description']].filter((v) => typeof v === 'string').join(': ');
      throw new Error(`token endpoint answered HTTP ${res.status}${why === '' ? '' : ` (${why})`}`);
    }
    const token = json['access_token'];
    if (typeof token !== 'string' || token === '') {
      throw new Error('token endpoint answered without an access_token');
    }
    const lifetime = lifetimeMs(json['expires_in'], token, started);
    return {
      token,
      expiresAt: started + lifetime,
      refreshAt: started + lifetime - Math.max(this.#opts.refreshBeforeMs ?? 60_000, lifetime / 10),
    };
  }
}

/** RFC 6749 §2.3.1: id and secret are form-encoded before they are joined and base64-encoded. */
function basicCredentials(id: string, secret: string): string {
  const form = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return Buffer.from(`${form(id)}:${form(secret)}`).toString('base64');
}

function lifetimeMs(expiresIn: unknown, token: string, now: number): number {
  if (typeof expiresIn === 'number' && expiresIn > 0) return expiresIn * 1000;
  if (typeof expiresIn === 'string' && /^\d+$/.test(expiresIn)) return Number(expiresIn) * 1000;
  const exp = jwtExpiry(token);
  if (exp !== undefined && exp * 1000 > now) return exp * 1000 - now;
  return FALLBACK_LIFETIME_MS;
}

/** `exp` of a JWT, read without verification: only to know when to ask again. */
function jwtExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof claims.exp === 'number' ? claims.exp : undefined;
  } catch {
    return undefined;
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}
