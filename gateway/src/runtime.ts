import { mkdirSync } from 'node:fs';
import type { GatehouseConfig } from '@gatehouse/config';
import type { ApprovalBroker, ConnectionSettings, Logger, PolicyEngine } from '@gatehouse/core';
import {
  createDevTokenEndpoint,
  createTokenVerifier,
  loadOrCreateDevIssuer,
  type ProviderOptions,
} from '@gatehouse/identity';
import { ApprovalService, compilePolicy } from '@gatehouse/policy';
import { openSessionLog, type SessionLog } from '@gatehouse/session-log';
import { AdminApi } from './admin-api.js';
import { approvalRoutes } from './approval-routes.js';
import { Gateway } from './gateway.js';
import { createLogger } from './logger.js';
import { recordingRoutes } from './recording-routes.js';
import type { ProtocolRegistry } from './registry.js';
import { TOKEN_ENDPOINT_PATH, tokenRoute } from './token-route.js';

export interface RunningGateway {
  readonly gateway: Gateway;
  readonly admin: AdminApi | undefined;
  readonly log: SessionLog;
  readonly policy: PolicyEngine;
  readonly approvals: ApprovalService;
  readonly logger: Logger;
  /** Drains and stops everything, in order; idempotent. */
  close(): Promise<void>;
}

export interface StartOptions {
  readonly modules: ProtocolRegistry;
  readonly logger?: Logger;
}

/** Maps the config's identity section onto the verifier's options. */
export function providerOptions(config: GatehouseConfig): ProviderOptions[] {
  return config.identity.providers.map((p) => {
    const base = {
      issuer: p.issuer,
      audience: p.audience,
      algorithms: p.algorithms,
      groupsClaim: p.groupsClaim,
      allowInsecureHttp: p.allowInsecureHttp,
    };
    const keys = p.keys;
    if (keys.source === 'discovery') return { ...base, discoveryUrl: keys.discoveryUrl };
    if (keys.source === 'jwks') return { ...base, jwksUri: keys.jwksUri };
    return { ...base, jwksFile: keys.jwksFile };
  });
}

export function connectionSettings(
  config: GatehouseConfig,
): { settings: ConnectionSettings; access: { groups: readonly string[]; subjects: readonly string[] } }[] {
  return config.connections.map((c) => ({
    settings: {
      name: c.name,
      protocol: c.protocol as ConnectionSettings['protocol'],
      listen: c.listen,
      upstream: c.upstream as unknown as Record<string, unknown>,
      // The global handshake limit applies unless the connection sets its own.
      options:
        'handshakeTimeout' in c.options || 'handshakeTimeoutMs' in c.options
          ? c.options
          : { handshakeTimeoutMs: config.limits.handshakeTimeoutMs, ...c.options },
    },
    access: c.access,
  }));
}

/**
 * Starts a whole gateway from a loaded config: the session log (recovering sessions a crash left
 * open), the verifier, the policy engine, the approvals service, the listeners and the admin API.
 * On any failure, whatever was started is stopped again before the error propagates.
 */
export async function startFromConfig(config: GatehouseConfig, opts: StartOptions): Promise<RunningGateway> {
  const logger = opts.logger ?? createLogger({ level: config.logging.level });
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const policy = compilePolicy({
    policies: config.policies,
    connections: config.connections.map((c) => ({ name: c.name, policy: c.policy })),
    masking: config.masking,
  });
  const devIssuer = config.identity.devIssuer.enabled
    ? await loadOrCreateDevIssuer(config.dataDir, {
        issuer: config.identity.devIssuer.issuer,
        audience: config.identity.devIssuer.audience,
      })
    : undefined;
  const verifier = createTokenVerifier({
    providers: providerOptions(config),
    clockToleranceSec: config.identity.clockToleranceMs / 1000,
    ...(devIssuer === undefined ? {} : { devIssuer }),
  });
  const log = openSessionLog({
    path: config.sessionLog.path,
    strict: config.sessionLog.strict,
    synchronous: config.sessionLog.synchronous,
    onError: (err) => logger.error({ err: err.message }, 'session log write failed'),
  });
  // Stopped in this order: listeners drain while the admin API can still decide held commands.
  let gateway: Gateway | undefined;
  let approvals: ApprovalService | undefined;
  let admin: AdminApi | undefined;
  const undo = async () => {
    await gateway?.shutdown();
    await approvals?.expireAll('gateway-shutdown');
    await admin?.close();
    verifier.close();
    await log.close();
  };
  try {
    const recovered = await log.recoverOpenSessions('gateway-restart');
    if (recovered > 0) logger.warn({ sessions: recovered }, 'ended sessions left open by a previous run');
    approvals = new ApprovalService({
      log,
      logger,
      approverGroups: [...config.approvals.approverGroups],
      timeoutMs: config.approvals.timeoutMs,
      ...(config.approvals.webhook === undefined ? {} : { webhook: config.approvals.webhook }),
    });
    await approvals.recoverPending(log.reader().eventsOfType('approval'));
    gateway = await Gateway.start({
      connections: connectionSettings(config),
      modules: opts.modules,
      verifier,
      policy,
      log,
      approvals: approvals as ApprovalBroker,
      logger,
      dataDir: config.dataDir,
      secrets: config.secrets,
      drainTimeoutMs: config.shutdown.drainTimeoutMs,
      maxConnectionsPerSource: config.limits.maxConnectionsPerSource,
    });
    const running = gateway;
    const clients = config.identity.devIssuer.clients;
    // The config loader refuses clients without the development issuer or the admin API.
    const openRoutes =
      devIssuer !== undefined && clients.length > 0
        ? [tokenRoute(createDevTokenEndpoint(devIssuer, clients), logger)]
        : [];
    if (config.admin.enabled) {
      admin = await AdminApi.start({
        host: config.admin.listen.host,
        port: config.admin.listen.port,
        verifier,
        adminGroups: config.admin.adminGroups,
        reader: log.reader(),
        metrics: gateway.metrics,
        logger,
        health: () => ({ log: log.health(), sessionsOpen: running.openSessions, draining: running.draining }),
        routes: [
          ...approvalRoutes(approvals, config.approvals.approverGroups),
          ...recordingRoutes(log.reader()),
        ],
        openRoutes,
      });
      logger.info({ listen: admin.address() }, 'admin API listening');
      if (openRoutes.length > 0) {
        logger.warn(
          { path: TOKEN_ENDPOINT_PATH, clients: clients.map((c) => c.id) },
          'development token endpoint enabled: never in production',
        );
      }
    }
    let closing: Promise<void> | undefined;
    return {
      gateway,
      admin,
      log,
      policy,
      approvals,
      logger,
      close: () => {
        closing ??= undo();
        return closing;
      },
    };
  } catch (err) {
    await undo();
    throw err;
  }
}
