/**
 * The agent's connection settings, all from the environment. They name Gatehouse's endpoints and
 * how to get a Gatehouse token — never a database password, an SSH key or a cluster credential:
 * those stay with the gateway.
 */
import { readFileSync } from 'node:fs';
import { ClientCredentialsTokenProvider, StaticTokenProvider, type TokenProvider } from './token-provider.js';

export interface PostgresEndpoint {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
}

export interface SshEndpoint {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** The gateway's host key: an OpenSSH public key line, or its `SHA256:` fingerprint. */
  readonly hostKey: string;
}

export interface KubernetesEndpoint {
  readonly server: string;
  readonly namespace: string;
}

export interface AgentSettings {
  readonly tokens: TokenProvider;
  /** How the token was configured, for the startup line (never the token itself). */
  readonly tokenSource: string;
  /** PEM bundle trusted for the gateway's TLS listeners; absent: the system's CAs. */
  readonly caPem?: string | undefined;
  readonly postgres?: PostgresEndpoint | undefined;
  readonly ssh?: SshEndpoint | undefined;
  readonly kubernetes?: KubernetesEndpoint | undefined;
}

/** The variables the example reads; README.md describes each. */
export const ENV = {
  token: 'GATEHOUSE_TOKEN',
  tokenUrl: 'GATEHOUSE_TOKEN_URL',
  clientId: 'GATEHOUSE_CLIENT_ID',
  clientSecret: 'GATEHOUSE_CLIENT_SECRET',
  scope: 'GATEHOUSE_TOKEN_SCOPE',
  audience: 'GATEHOUSE_TOKEN_AUDIENCE',
  caFile: 'GATEHOUSE_CA_FILE',
  postgres: 'GATEHOUSE_PG_URL',
  ssh: 'GATEHOUSE_SSH_URL',
  sshHostKey: 'GATEHOUSE_SSH_HOST_KEY',
  kubernetes: 'GATEHOUSE_KUBE_URL',
  kubeNamespace: 'GATEHOUSE_KUBE_NAMESPACE',
} as const;

export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}

type Env = Readonly<Record<string, string | undefined>>;

export function settingsFromEnv(env: Env = process.env): AgentSettings {
  const get = (name: string) => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const { tokens, tokenSource } = tokenProvider(get);
  const caFile = get(ENV.caFile);
  let caPem: string | undefined;
  if (caFile !== undefined) {
    try {
      caPem = readFileSync(caFile, 'utf8');
    } catch (err) {
      throw new SettingsError(`${ENV.caFile}: cannot read ${caFile}: ${(err as Error).message}`);
    }
  }
  const settings: AgentSettings = {
    tokens,
    tokenSource,
    caPem,
    postgres: postgresEndpoint(get(ENV.postgres)),
    ssh: sshEndpoint(get(ENV.ssh), get(ENV.sshHostKey)),
    kubernetes: kubernetesEndpoint(get(ENV.kubernetes), get(ENV.kubeNamespace)),
  };
  if (settings.postgres === undefined && settings.ssh === undefined && settings.kubernetes === undefined) {
    throw new SettingsError(
      `no Gatehouse endpoint is set: give at least one of ${ENV.postgres}, ${ENV.ssh}, ${ENV.kubernetes}`,
    );
  }
  return settings;
}

function tokenProvider(get: (name: string) => string | undefined): {
  tokens: TokenProvider;
  tokenSource: string;
} {
  const token = get(ENV.token);
  const tokenUrl = get(ENV.tokenUrl);
  if (token !== undefined && tokenUrl !== undefined) {
    throw new SettingsError(`set ${ENV.token} or ${ENV.tokenUrl}, not both`);
  }
  if (token !== undefined) return { tokens: new StaticTokenProvider(token), tokenSource: ENV.token };
  if (tokenUrl === undefined) {
    throw new SettingsError(
      `no Gatehouse token: set ${ENV.token}, or ${ENV.tokenUrl} with ${ENV.clientId} and ${ENV.clientSecret}`,
    );
  }
  const clientId = get(ENV.clientId);
  const clientSecret = get(ENV.clientSecret);
  if (clientId === undefined || clientSecret === undefined) {
    throw new SettingsError(`${ENV.tokenUrl} needs ${ENV.clientId} and ${ENV.clientSecret}`);
  }
  try {
    const tokens = new ClientCredentialsTokenProvider({
      tokenUrl,
      clientId,
      clientSecret,
      scope: get(ENV.scope),
      audience: get(ENV.audience),
    });
    return { tokens, tokenSource: `client credentials for ${clientId} from ${new URL(tokenUrl).origin}` };
  } catch (err) {
    throw new SettingsError(`${ENV.tokenUrl}: ${(err as Error).message}`);
  }
}

function parseUrl(name: string, value: string, protocols: readonly string[]): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new SettingsError(`${name}: not a URL`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new SettingsError(`${name}: use ${protocols.map((p) => `${p}//`).join(' or ')}`);
  }
  if (url.password !== '') {
    // A password here would be a credential in the agent's environment, the very thing to avoid.
    throw new SettingsError(`${name}: remove the password; the Gatehouse token is the password`);
  }
  return url;
}

/** `postgres://USER@HOST:PORT/DATABASE` of the gateway's PostgreSQL listener. */
function postgresEndpoint(value: string | undefined): PostgresEndpoint | undefined {
  if (value === undefined) return undefined;
  const url = parseUrl(ENV.postgres, value, ['postgres:', 'postgresql:']);
  const user = decodeURIComponent(url.username);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (user === '' || database === '') {
    throw new SettingsError(`${ENV.postgres}: give the user and the database, postgres://USER@HOST:PORT/DB`);
  }
  return { host: hostOf(url), port: Number(url.port || 5432), user, database };
}

/** `ssh://USER@HOST:PORT` of the gateway's SSH listener, and the gateway's host key to pin. */
function sshEndpoint(value: string | undefined, hostKey: string | undefined): SshEndpoint | undefined {
  if (value === undefined) return undefined;
  const url = parseUrl(ENV.ssh, value, ['ssh:']);
  const user = decodeURIComponent(url.username);
  if (user === '') throw new SettingsError(`${ENV.ssh}: give the login name, ssh://USER@HOST:PORT`);
  if (hostKey === undefined) {
    throw new SettingsError(
      `${ENV.ssh} needs ${ENV.sshHostKey}: the gateway's host key (a public key line or SHA256:… fingerprint)`,
    );
  }
  return { host: hostOf(url), port: Number(url.port || 22), user, hostKey };
}

/** `https://HOST:PORT` of the gateway's Kubernetes listener. */
function kubernetesEndpoint(
  value: string | undefined,
  namespace: string | undefined,
): KubernetesEndpoint | undefined {
  if (value === undefined) return undefined;
  const url = parseUrl(ENV.kubernetes, value, ['https:']);
  if (url.username !== '') throw new SettingsError(`${ENV.kubernetes}: no user in the URL`);
  return { server: url.origin, namespace: namespace ?? 'default' };
}

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}
