import { CliError, ExitCode } from './exit-codes.js';

export const DEFAULT_SERVER = 'http://127.0.0.1:9090';

/** yargs options every admin-API command shares. No defaults here: help output must never show a token. */
export const serverOption = {
  type: 'string',
  describe: `Admin API URL [default: $GATEHOUSE_SERVER, else ${DEFAULT_SERVER}]`,
} as const;

export const tokenOption = {
  type: 'string',
  describe: 'Bearer token for the admin API [default: $GATEHOUSE_TOKEN]',
} as const;

export interface AdminClientOptions {
  readonly server: string;
  readonly token: string;
  /** Per request; default 30 s. */
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

/** The admin API answered with an error; `exitCode` follows the CLI's contract (404 → 4, 400 → 2, else 1). */
export class AdminApiError extends CliError {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message, status === 404 ? ExitCode.NotFound : status === 400 ? ExitCode.Usage : ExitCode.Failure);
    this.name = 'AdminApiError';
    this.status = status;
    this.code = code;
  }
}

/**
 * Talks JSON to the gateway's admin API with a bearer token. Every failure becomes a CliError whose
 * message is safe to print: it names the server (without credentials) and never the token.
 */
export class AdminClient {
  readonly #base: URL;
  readonly #token: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(opts: AdminClientOptions) {
    this.#base = parseServer(opts.server);
    if (opts.token === '' || /\s/.test(opts.token)) {
      throw new CliError('the admin token is empty or contains whitespace', ExitCode.Usage);
    }
    this.#token = opts.token;
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
    this.#fetch = opts.fetch ?? fetch;
  }

  /** From `--server`/`--token`, falling back to GATEHOUSE_SERVER/GATEHOUSE_TOKEN. */
  static fromArgs(
    args: { server?: string | undefined; token?: string | undefined },
    env: NodeJS.ProcessEnv = process.env,
  ): AdminClient {
    const server = args.server ?? nonEmpty(env['GATEHOUSE_SERVER']) ?? DEFAULT_SERVER;
    const token = args.token ?? nonEmpty(env['GATEHOUSE_TOKEN']);
    if (token === undefined) {
      throw new CliError('no admin token: pass --token TOKEN or set GATEHOUSE_TOKEN', ExitCode.Usage);
    }
    return new AdminClient({ server, token });
  }

  /** The server as printed in messages: origin and path, without credentials. */
  get server(): string {
    return `${this.#base.origin}${this.#base.pathname.replace(/\/$/, '')}`;
  }

  get<T>(path: string, query: Record<string, string | undefined> = {}): Promise<T> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, v);
    const qs = params.toString();
    return this.#request<T>('GET', qs === '' ? path : `${path}?${qs}`);
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.#request<T>('POST', path, body);
  }

  async #request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = new URL(path.replace(/^\//, ''), this.#base);
    let res: Response;
    try {
      res = await this.#fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${this.#token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        redirect: 'error',
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (err) {
      throw new CliError(`cannot reach the admin API at ${this.server}: ${reason(err)}`, ExitCode.Failure);
    }
    const text = await res.text().catch(() => '');
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (res.ok) {
      if (json === undefined) {
        throw new CliError(
          `unexpected answer from ${this.server} (HTTP ${res.status}, not JSON)`,
          ExitCode.Failure,
        );
      }
      return json as T;
    }
    const error = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    const code = typeof error?.code === 'string' ? error.code : `http_${res.status}`;
    const message = typeof error?.message === 'string' ? error.message : res.statusText || 'request failed';
    if (res.status === 401) {
      throw new AdminApiError(401, code, `the admin API did not accept the token: ${message}`);
    }
    if (res.status >= 500)
      throw new AdminApiError(res.status, code, `admin API error (${res.status}): ${message}`);
    throw new AdminApiError(res.status, code, message);
  }
}

function parseServer(server: string): URL {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new CliError(`--server must be a URL such as ${DEFAULT_SERVER}`, ExitCode.Usage);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError('--server must be an http:// or https:// URL', ExitCode.Usage);
  }
  url.search = '';
  url.hash = '';
  // Relative API paths resolve below a server path prefix (a reverse proxy mount), not beside it.
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function reason(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.name === 'TimeoutError') return 'timed out';
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' ? code : cause.message;
  }
  return err.message;
}
