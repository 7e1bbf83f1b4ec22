import { ConfigError, parseDuration } from '@gatehouse/core';

/** Per-connection settings from `connection.options`; every one has a safe default. */
export interface KubernetesOptions {
  /** Serving certificate: files, or one generated into `<dataDir>/kubernetes/` (the default). */
  readonly tls: { readonly cert: string; readonly key: string; readonly ca?: string } | 'self-signed';
  /** Extra names (DNS or IP) for the generated certificate, besides localhost and the listen address. */
  readonly tlsHosts: readonly string[];
  /** TLS handshake plus the first authenticated request must finish within this. */
  readonly handshakeTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  /** The upstream may stay silent (connect, response headers) for at most this; streams are exempt once started. */
  readonly upstreamTimeoutMs: number;
  readonly maxHeaderBytes: number;
  /** Largest PATCH body read to check that it decodes (the API server's own limit is 3 MiB). */
  readonly maxPatchBytes: number;
  /** Longest single JSON token held while masking. */
  readonly maxJsonTokenChars: number;
  /** Allow a kubeconfig with `insecure-skip-tls-verify: true` (never by default). */
  readonly allowInsecureUpstream: boolean;
  /**
   * exec and attach output that might be the start of a sensitive value waits at most this long
   * for what follows before it is masked and sent as it is (a prompt, a character echoed in a tty).
   */
  readonly outputMaskHoldMs: number;
}

export const DEFAULT_KUBERNETES_OPTIONS: KubernetesOptions = {
  tls: 'self-signed',
  tlsHosts: [],
  handshakeTimeoutMs: 10_000,
  keepAliveTimeoutMs: 30_000,
  upstreamTimeoutMs: 60_000,
  maxHeaderBytes: 32 * 1024,
  maxPatchBytes: 3 * 1024 * 1024,
  maxJsonTokenChars: 8 * 1024 * 1024,
  allowInsecureUpstream: false,
  outputMaskHoldMs: 50,
};

type TimeoutKey = 'handshakeTimeout' | 'keepAliveTimeout' | 'upstreamTimeout' | 'outputMaskHold';

/**
 * Reads `options`. Timeouts as `fooMs: 1500` or `foo: "1.5s"`; a bad timeout falls back to the
 * default (the config loader validates). A malformed `tls` is a ConfigError: silently serving a
 * generated certificate instead of the configured one would be worse than not starting.
 */
export function parseKubernetesOptions(options: Readonly<Record<string, unknown>>): KubernetesOptions {
  const d = DEFAULT_KUBERNETES_OPTIONS;
  const ms = (key: TimeoutKey): number => {
    const n = options[`${key}Ms`];
    if (typeof n === 'number' && Number.isFinite(n) && n > 0) return n;
    const text = options[key];
    const parsed = typeof text === 'string' ? parseDuration(text) : undefined;
    return parsed !== undefined && parsed > 0 ? parsed : d[`${key}Ms`];
  };
  const positive = (key: 'maxHeaderBytes' | 'maxPatchBytes' | 'maxJsonTokenChars'): number => {
    const n = options[key];
    return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : d[key];
  };
  let tls: KubernetesOptions['tls'] = 'self-signed';
  let tlsHosts: string[] = [];
  const raw = options['tls'];
  if (raw !== undefined && raw !== 'self-signed') {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new ConfigError('options.tls must be "self-signed" or { cert, key[, ca] } or { hosts }', {
        path: 'options.tls',
      });
    }
    const { cert, key, ca, hosts } = raw as Record<string, unknown>;
    if (hosts !== undefined) {
      if (
        !Array.isArray(hosts) ||
        hosts.some((h) => typeof h !== 'string' || !/^[A-Za-z0-9.:*-]+$/.test(h))
      ) {
        throw new ConfigError('options.tls.hosts must be a list of host names or IP addresses', {
          path: 'options.tls.hosts',
        });
      }
      tlsHosts = hosts as string[];
    }
    if (cert !== undefined || key !== undefined) {
      if (typeof cert !== 'string' || typeof key !== 'string') {
        throw new ConfigError('options.tls needs both cert and key (file paths)', { path: 'options.tls' });
      }
      if (ca !== undefined && typeof ca !== 'string') {
        throw new ConfigError('options.tls.ca must be a file path', { path: 'options.tls.ca' });
      }
      tls = { cert, key, ...(typeof ca === 'string' ? { ca } : {}) };
    }
  }
  return {
    tls,
    tlsHosts,
    handshakeTimeoutMs: ms('handshakeTimeout'),
    keepAliveTimeoutMs: ms('keepAliveTimeout'),
    upstreamTimeoutMs: ms('upstreamTimeout'),
    maxHeaderBytes: positive('maxHeaderBytes'),
    maxPatchBytes: positive('maxPatchBytes'),
    maxJsonTokenChars: positive('maxJsonTokenChars'),
    allowInsecureUpstream: options['allowInsecureUpstream'] === true,
    outputMaskHoldMs: ms('outputMaskHold'),
  };
}
