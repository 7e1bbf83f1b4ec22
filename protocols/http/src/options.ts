import { parseDuration } from '@gatehouse/core';

/** Per-connection settings from `connection.options`; every one has a safe default. */
export interface HttpOptions {
  /** A client must send a first request and authenticate within this; later requests must send their headers within it. */
  readonly handshakeTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  readonly keepAliveTimeoutMs: number;
  /** The upstream may stay silent (connect, headers, body) for at most this before the request fails with 504. */
  readonly upstreamTimeoutMs: number;
  /** Request line plus headers. */
  readonly maxHeaderBytes: number;
  /** Longest single JSON token held while masking. */
  readonly maxJsonTokenChars: number;
}

export const DEFAULT_OPTIONS: HttpOptions = {
  handshakeTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  upstreamTimeoutMs: 60_000,
  maxHeaderBytes: 16 * 1024,
  maxJsonTokenChars: 8 * 1024 * 1024,
};

/**
 * Accepts `fooMs: 1500` or `foo: "1.5s"` for each timeout. A bad value falls back to the default:
 * the config loader validates options, this only keeps a stray value from disabling a limit.
 */
export function parseHttpOptions(options: Readonly<Record<string, unknown>>): HttpOptions {
  const ms = (key: 'handshakeTimeout' | 'keepAliveTimeout' | 'upstreamTimeout'): number => {
    const n = options[`${key}Ms`];
    if (typeof n === 'number' && Number.isFinite(n) && n > 0) return n;
    const text = options[key];
    const parsed = typeof text === 'string' ? parseDuration(text) : undefined;
    return parsed !== undefined && parsed > 0 ? parsed : DEFAULT_OPTIONS[`${key}Ms`];
  };
  const positive = (key: 'maxHeaderBytes' | 'maxJsonTokenChars'): number => {
    const n = options[key];
    return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : DEFAULT_OPTIONS[key];
  };
  return {
    handshakeTimeoutMs: ms('handshakeTimeout'),
    keepAliveTimeoutMs: ms('keepAliveTimeout'),
    upstreamTimeoutMs: ms('upstreamTimeout'),
    maxHeaderBytes: positive('maxHeaderBytes'),
    maxJsonTokenChars: positive('maxJsonTokenChars'),
  };
}
