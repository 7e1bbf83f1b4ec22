/**
 * The cluster behind the gateway, read from a kubeconfig the gateway holds with
 * `@kubernetes/client-node`: server URL, CA, client certificate and key, bearer token (static,
 * token file, exec or auth-provider plugins, all as client-node resolves them) or basic auth. The
 * caller's token never reaches it; these credentials are what the cluster sees.
 */
import { Agent, type AgentOptions } from 'node:https';
import { ConfigError } from '@gatehouse/core';
import { KubeConfig } from '@kubernetes/client-node';

export interface UpstreamSettings {
  /** Absolute path of the kubeconfig. */
  readonly kubeconfig: string;
  readonly context?: string | undefined;
}

export interface UpstreamCredentials {
  /** Headers to add to every upstream request (Authorization). Secret. */
  readonly headers: Readonly<Record<string, string>>;
  /** TLS options for connections to the cluster (CA, client certificate). */
  readonly tls: AgentOptions;
  /** Secret strings to redact from the log should they ever appear. */
  readonly secrets: readonly string[];
}

export interface KubeUpstream {
  readonly url: URL;
  /** `host[:port]` for the Host header. */
  readonly host: string;
  /** The server URL's path without a trailing slash (`''` for most clusters). */
  readonly basePath: string;
  /** Fresh credentials (plugins may rotate tokens; results are cached for a minute). */
  credentials(): Promise<UpstreamCredentials>;
}

/** How long resolved credentials are reused before client-node is asked again. */
const CREDENTIALS_TTL_MS = 60_000;

export function parseUpstreamSettings(upstream: Readonly<Record<string, unknown>>): UpstreamSettings {
  const kubeconfig = upstream['kubeconfig'];
  if (typeof kubeconfig !== 'string' || kubeconfig === '') {
    throw new ConfigError('kubernetes upstream: `kubeconfig` is required', { path: 'upstream.kubeconfig' });
  }
  const context = upstream['context'];
  if (context !== undefined && typeof context !== 'string') {
    throw new ConfigError('kubernetes upstream: `context` must be a context name', {
      path: 'upstream.context',
    });
  }
  return { kubeconfig, context };
}

export function loadUpstream(settings: UpstreamSettings, options: { allowInsecure: boolean }): KubeUpstream {
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(settings.kubeconfig);
  } catch (err) {
    throw new ConfigError(`cannot read kubeconfig ${settings.kubeconfig}: ${(err as Error).message}`, {
      cause: err,
      path: 'upstream.kubeconfig',
    });
  }
  if (settings.context !== undefined) {
    if (kc.getContextObject(settings.context) === null) {
      throw new ConfigError(`kubeconfig ${settings.kubeconfig} has no context "${settings.context}"`, {
        path: 'upstream.context',
      });
    }
    kc.setCurrentContext(settings.context);
  }
  const cluster = kc.getCurrentCluster();
  const user = kc.getCurrentUser();
  const where = `kubeconfig ${settings.kubeconfig}, context "${kc.getCurrentContext()}"`;
  if (cluster === null) throw new ConfigError(`${where}: no cluster`, { path: 'upstream.kubeconfig' });
  // client-node applies the cluster's CA only when the context has a user.
  if (user === null) throw new ConfigError(`${where}: no user`, { path: 'upstream.kubeconfig' });
  let url: URL;
  try {
    url = new URL(cluster.server);
  } catch {
    throw new ConfigError(`${where}: server "${cluster.server}" is not a URL`, {
      path: 'upstream.kubeconfig',
    });
  }
  if (url.protocol !== 'https:') {
    throw new ConfigError(
      `${where}: the server must be https:// (the gateway never sends credentials in clear)`,
      {
        path: 'upstream.kubeconfig',
      },
    );
  }
  if (cluster.skipTLSVerify && !options.allowInsecure) {
    throw new ConfigError(
      `${where}: insecure-skip-tls-verify is set; give the cluster's CA instead (or set options.allowInsecureUpstream: true)`,
      { path: 'upstream.kubeconfig' },
    );
  }
  let cached: { at: number; value: Promise<UpstreamCredentials> } | undefined;
  const resolve = async (): Promise<UpstreamCredentials> => {
    const opts: { headers?: Record<string, string>; auth?: string } & AgentOptions = {};
    await kc.applyToHTTPSOptions(opts);
    const headers: Record<string, string> = {};
    const secrets: string[] = [];
    const authorization = opts.headers?.['Authorization'] ?? opts.headers?.['authorization'];
    if (typeof authorization === 'string') {
      headers['authorization'] = authorization;
      secrets.push(authorization.replace(/^\S+\s+/, ''));
    } else if (typeof opts.auth === 'string') {
      const basic = Buffer.from(opts.auth).toString('base64');
      headers['authorization'] = `Basic ${basic}`;
      secrets.push(basic, opts.auth);
    }
    const tls: AgentOptions = {
      ...(opts.ca === undefined ? {} : { ca: opts.ca }),
      ...(opts.cert === undefined ? {} : { cert: opts.cert }),
      ...(opts.key === undefined ? {} : { key: opts.key }),
      ...(opts.servername === undefined ? {} : { servername: opts.servername }),
      rejectUnauthorized: !(cluster.skipTLSVerify && options.allowInsecure),
    };
    return { headers, tls, secrets };
  };
  return {
    url,
    host: url.host,
    basePath: url.pathname.replace(/\/+$/, ''),
    credentials() {
      const now = Date.now();
      if (cached === undefined || now - cached.at > CREDENTIALS_TTL_MS) {
        const value = resolve();
        value.catch(() => {
          cached = undefined;
        });
        cached = { at: now, value };
      }
      return cached.value;
    },
  };
}

/** An agent for one client connection's upstream requests; keep-alive, dies with the connection. */
export function upstreamAgent(tls: AgentOptions, keepAliveMs: number): Agent {
  return new Agent({
    ...tls,
    keepAlive: true,
    maxSockets: 8,
    timeout: keepAliveMs,
    ALPNProtocols: ['http/1.1'],
  });
}
