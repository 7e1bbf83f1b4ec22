import { join } from 'node:path';
import type { ApprovalsConfig, MaskingConfig, RuleSetConfig } from '@gatehouse/policy';
import { DEFAULT_LISTEN_HOST, parseListen } from './listen.js';
import { normalizeConnections, type RawConnection } from './normalize-connections.js';
import type { NormalizeContext } from './normalize-context.js';
import { normalizeIdentity, type RawIdentity } from './normalize-identity.js';
import { checkPolicies } from './policy-checks.js';
import type {
  AdminConfig,
  GatehouseConfig,
  ListenAddress,
  LogLevel,
  ResolvedApprovalsConfig,
  SessionLogConfig,
} from './types.js';

/** The file's shape once the schema has accepted it. */
export interface RawConfig {
  dataDir?: string;
  identity?: RawIdentity;
  sessionLog?: { path?: string; strict?: boolean; synchronous?: 'full' | 'normal' };
  admin?: { enabled?: boolean; listen?: string | number; adminGroups?: string[] };
  approvals?: ApprovalsConfig;
  policies?: Record<string, RuleSetConfig>;
  masking?: MaskingConfig;
  logging?: { level?: LogLevel };
  shutdown?: { drainTimeout?: string };
  limits?: { handshakeTimeout?: string; maxConnectionsPerSource?: number };
  connections?: RawConnection[];
}

export const DEFAULT_ADMIN_LISTEN: ListenAddress = { host: DEFAULT_LISTEN_HOST, port: 9090 };
const DEFAULT_APPROVAL_TIMEOUT_MS = 5 * 60_000;
const MAX_TIMER_MS = 2 ** 31 - 1;
const DEFAULT_WEBHOOK_TIMEOUT_MS = 5_000;
const DEFAULT_WEBHOOK_RETRIES = 3;

/**
 * Applies defaults, resolves paths and durations and runs the checks a schema cannot express.
 * Problems go to the context; the result is only meaningful when none were reported.
 */
export function normalizeConfig(
  raw: RawConfig,
  file: string,
  ctx: NormalizeContext,
): Omit<GatehouseConfig, 'secrets'> {
  const dataDir = ctx.path(raw.dataDir ?? '.gatehouse');
  const admin = normalizeAdmin(raw.admin, ctx);
  const policies = raw.policies ?? {};
  const masking = raw.masking ?? {};
  if (masking.hashKey !== undefined) ctx.secret(masking.hashKey);
  const connections = normalizeConnections(raw.connections ?? [], admin, ctx);
  checkPolicies(policies, masking, raw.connections ?? [], ctx);
  const sessionLog: SessionLogConfig = {
    path: raw.sessionLog?.path === undefined ? join(dataDir, 'sessions.db') : ctx.path(raw.sessionLog.path),
    strict: raw.sessionLog?.strict ?? true,
    synchronous: raw.sessionLog?.synchronous ?? 'full',
  };
  const handshakeTimeoutMs = ctx.duration(
    ['limits', 'handshakeTimeout'],
    raw.limits?.handshakeTimeout,
    10_000,
  );
  if (handshakeTimeoutMs === 0) ctx.add(['limits', 'handshakeTimeout'], 'must be longer than 0');
  const identity = normalizeIdentity(raw.identity ?? {}, ctx);
  if (identity.devIssuer.clients.length > 0 && !admin.enabled) {
    ctx.add(
      ['identity', 'devIssuer', 'clients'],
      'the token endpoint for these clients is served by the admin API: remove admin.enabled: false',
    );
  }
  return {
    file,
    dataDir,
    identity,
    sessionLog,
    admin,
    approvals: normalizeApprovals(raw.approvals ?? {}, ctx),
    policies,
    masking,
    logging: { level: raw.logging?.level ?? 'info' },
    shutdown: {
      drainTimeoutMs: ctx.duration(['shutdown', 'drainTimeout'], raw.shutdown?.drainTimeout, 10_000),
    },
    limits: { handshakeTimeoutMs, maxConnectionsPerSource: raw.limits?.maxConnectionsPerSource ?? 0 },
    connections,
  };
}

function normalizeAdmin(raw: RawConfig['admin'], ctx: NormalizeContext): AdminConfig {
  let listen: ListenAddress = { ...DEFAULT_ADMIN_LISTEN };
  if (raw?.listen !== undefined) {
    const parsed = parseListen(raw.listen);
    if (parsed.ok) listen = parsed.address;
    else ctx.add(['admin', 'listen'], `bad listen address ${ctx.show(raw.listen)}: ${parsed.reason}`);
  }
  return { enabled: raw?.enabled ?? true, listen, adminGroups: raw?.adminGroups ?? [] };
}

function normalizeApprovals(raw: ApprovalsConfig, ctx: NormalizeContext): ResolvedApprovalsConfig {
  const path = ['approvals'];
  const timeoutMs = ctx.duration([...path, 'timeout'], raw.timeout, DEFAULT_APPROVAL_TIMEOUT_MS);
  if (timeoutMs === 0) ctx.add([...path, 'timeout'], 'must be longer than 0');
  // Node timers cannot wait longer; the approvals service would refuse it at start.
  if (timeoutMs > MAX_TIMER_MS) ctx.add([...path, 'timeout'], 'must be at most 24d');
  const webhook = raw.webhook;
  return {
    approverGroups: raw.approverGroups ?? [],
    timeoutMs,
    webhook:
      webhook === undefined
        ? undefined
        : {
            url: ctx.httpUrl([...path, 'webhook', 'url'], webhook.url),
            secret: ctx.secret(webhook.secret),
            timeoutMs: ctx.duration(
              [...path, 'webhook', 'timeout'],
              webhook.timeout,
              DEFAULT_WEBHOOK_TIMEOUT_MS,
            ),
            retries: webhook.retries ?? DEFAULT_WEBHOOK_RETRIES,
          },
  };
}
