import type { MaskingConfig, RuleAction, RuleConfig, RuleSetConfig } from '@gatehouse/policy';

/*
 * The configuration as the gateway consumes it: defaults applied, relative paths made absolute
 * against the config file's directory, durations converted to milliseconds (fields ending in `Ms`),
 * secret references resolved. Everything is deeply frozen.
 */

export const BUILTIN_PROTOCOLS = ['postgres', 'ssh', 'kubernetes', 'http'] as const;
export type BuiltinProtocol = (typeof BUILTIN_PROTOCOLS)[number];

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Signature algorithms a token may use; symmetric ones and `none` are never accepted. */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

export interface ListenAddress {
  /** Host or IP literal without brackets (`127.0.0.1`, `::1`, `0.0.0.0`). */
  readonly host: string;
  /** 1–65535, or 0 for "any free port" (tests). */
  readonly port: number;
}

/** Where a provider's signing keys come from; exactly one source per provider. */
export type ProviderKeySource =
  | { readonly source: 'discovery'; readonly discoveryUrl: string }
  | { readonly source: 'jwks'; readonly jwksUri: string }
  | { readonly source: 'file'; readonly jwksFile: string };

export interface IdentityProviderConfig {
  readonly issuer: string;
  /** Accepted `aud` values; a token must carry at least one. */
  readonly audience: readonly string[];
  /** `discovery: true` becomes a discovery source with `<issuer>/.well-known/openid-configuration`. */
  readonly keys: ProviderKeySource;
  readonly algorithms: readonly AsymmetricAlgorithm[];
  /** The provider's own groups claim, or the identity-wide one. */
  readonly groupsClaim: string;
  /** Plain-http key URLs to non-loopback hosts were explicitly allowed. */
  readonly allowInsecureHttp: boolean;
}

/** An OAuth 2.0 client of the development issuer's token endpoint (client-credentials grant). */
export interface DevIssuerClientConfig {
  readonly id: string;
  /** Compared in constant time; a secret value, redacted like passwords. */
  readonly secret: string;
  /** `sub` of the tokens issued to this client; default its id. */
  readonly subject: string;
  readonly groups: readonly string[];
  /** Lifetime of each token. */
  readonly ttlMs: number;
}

export interface DevIssuerConfig {
  readonly enabled: boolean;
  readonly issuer: string;
  readonly audience: string;
  /** Clients of the token endpoint on the admin API (`POST /oauth/token`); none: no endpoint. */
  readonly clients: readonly DevIssuerClientConfig[];
}

export interface IdentityConfig {
  readonly providers: readonly IdentityProviderConfig[];
  readonly groupsClaim: string;
  readonly clockToleranceMs: number;
  readonly devIssuer: DevIssuerConfig;
}

export interface SessionLogConfig {
  /** Absolute path of the SQLite file. */
  readonly path: string;
  readonly strict: boolean;
  readonly synchronous: 'full' | 'normal';
}

export interface AdminConfig {
  readonly enabled: boolean;
  readonly listen: ListenAddress;
  readonly adminGroups: readonly string[];
}

export interface WebhookConfig {
  readonly url: string;
  readonly secret?: string | undefined;
  readonly timeoutMs: number;
  readonly retries: number;
}

export interface ResolvedApprovalsConfig {
  readonly approverGroups: readonly string[];
  readonly timeoutMs: number;
  readonly webhook?: WebhookConfig | undefined;
}

export interface ResolvedConnectionPolicy {
  /** Names of global rule sets, evaluated in this order before `rules`. All exist in `policies`. */
  readonly use: readonly string[];
  readonly rules: readonly RuleConfig[];
  /** Absent when the file does not say; the policy engine applies its own default. */
  readonly defaultAction?: RuleAction | undefined;
}

export interface AccessConfig {
  /** Empty groups and subjects: any authenticated identity may use the connection. */
  readonly groups: readonly string[];
  readonly subjects: readonly string[];
}

export type PostgresTlsMode = 'disable' | 'require' | 'verify-full';

export interface PostgresUpstreamConfig {
  readonly host: string;
  readonly port: number;
  readonly database?: string | undefined;
  readonly user: string;
  readonly password?: string | undefined;
  readonly tls: { readonly mode: PostgresTlsMode; readonly ca?: string | undefined };
}

export interface SshUpstreamConfig {
  readonly host: string;
  readonly port: number;
  readonly user?: string | undefined;
  readonly password?: string | undefined;
  /** PEM text of the private key (read at load when the file gave a path). */
  readonly privateKey?: string | undefined;
  /** A known-hosts line / public key, or a `SHA256:` fingerprint. */
  readonly hostKey: string;
}

export interface KubernetesUpstreamConfig {
  /** Absolute path of the kubeconfig file. */
  readonly kubeconfig: string;
  readonly context?: string | undefined;
}

export interface HttpUpstreamConfig {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** Upstream of a protocol registered through `extraProtocols` (the test protocol, for one). */
export interface HostPortUpstreamConfig {
  readonly host: string;
  readonly port: number;
}

interface ConnectionBase {
  readonly name: string;
  readonly listen: ListenAddress;
  readonly access: AccessConfig;
  readonly policy: ResolvedConnectionPolicy;
  readonly options: Readonly<Record<string, unknown>>;
}

export interface PostgresConnectionConfig extends ConnectionBase {
  readonly protocol: 'postgres';
  readonly upstream: PostgresUpstreamConfig;
}
export interface SshConnectionConfig extends ConnectionBase {
  readonly protocol: 'ssh';
  readonly upstream: SshUpstreamConfig;
}
export interface KubernetesConnectionConfig extends ConnectionBase {
  readonly protocol: 'kubernetes';
  readonly upstream: KubernetesUpstreamConfig;
}
export interface HttpConnectionConfig extends ConnectionBase {
  readonly protocol: 'http';
  readonly upstream: HttpUpstreamConfig;
}
export interface ExtraConnectionConfig extends ConnectionBase {
  readonly protocol: string;
  readonly upstream: HostPortUpstreamConfig;
}

export type ConnectionConfig =
  | PostgresConnectionConfig
  | SshConnectionConfig
  | KubernetesConnectionConfig
  | HttpConnectionConfig
  | ExtraConnectionConfig;

export interface GatehouseConfig {
  /** Absolute path of the config file (or of `<baseDir>/<file>` for parsed text). */
  readonly file: string;
  readonly dataDir: string;
  readonly identity: IdentityConfig;
  readonly sessionLog: SessionLogConfig;
  readonly admin: AdminConfig;
  readonly approvals: ResolvedApprovalsConfig;
  /** Named global rule sets. */
  readonly policies: Readonly<Record<string, RuleSetConfig>>;
  readonly masking: MaskingConfig;
  readonly logging: { readonly level: LogLevel };
  readonly shutdown: { readonly drainTimeoutMs: number };
  readonly limits: { readonly handshakeTimeoutMs: number; readonly maxConnectionsPerSource: number };
  readonly connections: readonly ConnectionConfig[];
  /**
   * Every secret value in the config (resolved `${env:…}`/`${file:…}` references, passwords, keys),
   * for the log's and the logger's redaction. Non-enumerable: it never shows in JSON or spreads.
   */
  readonly secrets: readonly string[];
}

/** Narrows a connection to a built-in protocol's shape. */
export function isProtocol<P extends BuiltinProtocol>(
  connection: ConnectionConfig,
  protocol: P,
): connection is Extract<ConnectionConfig, { protocol: P }> {
  return connection.protocol === protocol;
}
