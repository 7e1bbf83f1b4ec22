import { parseDuration } from '@gatehouse/core';

/** `connection.options` of a PostgreSQL connection; every key has a safe default. See docs/postgres.md. */
export interface PostgresOptions {
  /** From the first byte to ReadyForQuery (TLS, password, upstream login). */
  readonly handshakeTimeoutMs: number;
  /** Connecting and logging in to the upstream. */
  readonly connectTimeoutMs: number;
  /** Accept the token over a connection without TLS. */
  readonly allowPlaintext: boolean;
  /** Certificate and key files (PEM) for client TLS; absent: a self-signed pair in `<dataDir>/postgres/`; false: no TLS. */
  readonly tls: { readonly cert: string; readonly key: string } | 'self-signed' | false;
  /** Databases a client may ask for; undefined: the upstream's database (any, when the upstream names none). */
  readonly databases: readonly string[] | undefined;
  /** Roles a client may log in as upstream; undefined: the upstream's user only. */
  readonly users: readonly string[] | undefined;
  /** Settings a client may give at startup besides the built-in list (e.g. `search_path`). */
  readonly settings: readonly string[];
  /** Let FunctionCall (fast-path) messages through, each judged as a command. */
  readonly allowFunctionCall: boolean;
  /** Largest message accepted from a client (bytes, length word included). */
  readonly maxMessageLength: number;
}

export const DEFAULT_POSTGRES_OPTIONS: PostgresOptions = {
  handshakeTimeoutMs: 10_000,
  connectTimeoutMs: 10_000,
  allowPlaintext: false,
  tls: 'self-signed',
  databases: undefined,
  users: undefined,
  settings: [],
  allowFunctionCall: false,
  maxMessageLength: 64 * 1024 * 1024,
};

/**
 * Reads `connection.options`. A value of the wrong type falls back to the default, which is
 * always the safe side (TLS on, function calls off, only the configured database and user).
 */
export function parsePostgresOptions(options: Readonly<Record<string, unknown>>): PostgresOptions {
  const d = DEFAULT_POSTGRES_OPTIONS;
  // The duration text wins over the `…Ms` number: the gateway injects `handshakeTimeoutMs` from
  // `limits`, and a connection's own `handshakeTimeout` must still override that default.
  const ms = (key: 'handshakeTimeout' | 'connectTimeout'): number => {
    const text = options[key];
    const parsed = typeof text === 'string' ? parseDuration(text) : undefined;
    if (parsed !== undefined && parsed > 0) return parsed;
    const n = options[`${key}Ms`];
    return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : d[`${key}Ms`];
  };
  const list = (key: string): string[] | undefined => {
    const v = options[key];
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
  };
  const tlsOption = options['tls'];
  let tls: PostgresOptions['tls'] = d.tls;
  if (tlsOption === false) tls = false;
  else if (typeof tlsOption === 'object' && tlsOption !== null) {
    const { cert, key } = tlsOption as Record<string, unknown>;
    if (typeof cert === 'string' && typeof key === 'string') tls = { cert, key };
  }
  const max = options['maxMessageLength'];
  return {
    handshakeTimeoutMs: ms('handshakeTimeout'),
    connectTimeoutMs: ms('connectTimeout'),
    allowPlaintext: options['allowPlaintext'] === true,
    tls,
    databases: list('databases'),
    users: list('users'),
    settings: list('settings') ?? [],
    allowFunctionCall: options['allowFunctionCall'] === true,
    maxMessageLength:
      typeof max === 'number' && Number.isInteger(max) && max >= 1024 && max <= 0x3fffffff
        ? max
        : d.maxMessageLength,
  };
}
