import type { Socket } from 'node:net';
import {
  ConfigError,
  type ConnectionContext,
  ErrorCode,
  type GatewayError,
  type ProtocolModule,
  toGatewayError,
} from '@gatehouse/core';
import { createLineageAnalyzer } from './masking/index.js';
import { CancelKeyRegistry } from './session/cancel-keys.js';
import { write } from './session/client-startup.js';
import { resultMaskingFilter } from './session/masking-filter.js';
import { parsePostgresOptions } from './session/options.js';
import { PgConnection, type PostgresServices, type UpstreamSettings } from './session/pg-connection.js';
import type { BackendMessageFilter } from './session/result-filter.js';
import { ServerTls } from './session/server-tls.js';
import { fatal, SqlState } from './session/sql-state.js';
import { createSqlAnalyzer, initSqlAnalyzer, type SqlAnalyzerOptions } from './sql/index.js';

export interface PostgresModuleOptions {
  /** Cache sizes and limits of the SQL analyzer shared by every connection of the module. */
  readonly analyzer?: SqlAnalyzerOptions;
  /**
   * Makes the filter every upstream message passes through on its way to the client. Default:
   * result masking (lineage and detectors) with the session's masker.
   */
  readonly resultFilter?: (ctx: ConnectionContext) => BackendMessageFilter;
}

/** A PostgreSQL module instance with its own analyzer cache and cancel keys. */
export interface PostgresModule extends ProtocolModule {
  readonly name: 'postgres';
  /** Cancel keys of live sessions (for tests and metrics). */
  readonly cancelKeys: CancelKeyRegistry;
}

/**
 * The PostgreSQL protocol module: clients connect with the token as password; every statement —
 * simple queries, each statement of a multi-statement string, Parse/Bind/Execute, SQL PREPARE and
 * EXECUTE, COPY, fast-path calls — is judged before it is forwarded with the gateway's own
 * upstream credentials, and results stream back through the masking filter.
 */
export function createPostgresModule(moduleOptions: PostgresModuleOptions = {}): PostgresModule {
  const cancelKeys = new CancelKeyRegistry();
  const lineage = createLineageAnalyzer();
  let loading: Promise<void> | undefined;
  const services: PostgresServices = {
    analyzer: createSqlAnalyzer(moduleOptions.analyzer),
    cancelKeys,
    tls: new ServerTls(),
    ready: () => {
      loading ??= initSqlAnalyzer().catch((err: unknown) => {
        loading = undefined;
        throw err;
      });
      return loading;
    },
    filterFor: moduleOptions.resultFilter ?? ((ctx) => resultMaskingFilter(ctx.session.masker(), lineage)),
  };
  return {
    name: 'postgres',
    cancelKeys,

    async handleConnection(socket: Socket, ctx: ConnectionContext, signal: AbortSignal): Promise<void> {
      // Read the settings before anything else, but start listening at once (inside PgConnection).
      let upstream: UpstreamSettings;
      let options: ReturnType<typeof parsePostgresOptions>;
      try {
        upstream = parseUpstream(ctx.connection.upstream);
        options = parsePostgresOptions(ctx.connection.options);
      } catch (err) {
        socket.resume();
        await write(
          socket,
          fatal(SqlState.InternalError, `connection "${ctx.connection.name}" is misconfigured`),
        );
        socket.end();
        throw toGatewayError(err);
      }
      await new PgConnection(socket, ctx, signal, services, options, upstream).run();
    },

    async rejectConnection(socket: Socket, error: GatewayError): Promise<void> {
      // libpq reads an ErrorResponse even where it expects the answer to an SSLRequest.
      socket.resume();
      await write(socket, fatal(rejectionState(error), error.message));
      socket.end();
    },
  };
}

/** The module instance the gateway registers. */
export const postgresModule: PostgresModule = createPostgresModule();

function rejectionState(error: GatewayError): string {
  switch (error.code) {
    case ErrorCode.ShuttingDown:
      return '57P03';
    case ErrorCode.AccessDenied:
      return '53300';
    case ErrorCode.LogUnavailable:
      return SqlState.IoError;
    default:
      return '08004';
  }
}

function parseUpstream(raw: Readonly<Record<string, unknown>>): UpstreamSettings {
  const host = raw['host'];
  const user = raw['user'];
  if (typeof host !== 'string' || host === '' || typeof user !== 'string' || user === '') {
    throw new ConfigError('a postgres upstream needs host and user', { path: 'upstream' });
  }
  const port = typeof raw['port'] === 'number' ? raw['port'] : 5432;
  const tls = (typeof raw['tls'] === 'object' && raw['tls'] !== null ? raw['tls'] : {}) as Record<
    string,
    unknown
  >;
  const mode = tls['mode'] === 'require' || tls['mode'] === 'verify-full' ? tls['mode'] : 'disable';
  return {
    host,
    port,
    user,
    database: typeof raw['database'] === 'string' ? raw['database'] : undefined,
    password: typeof raw['password'] === 'string' ? raw['password'] : undefined,
    tls: { mode, ...(typeof tls['ca'] === 'string' ? { ca: tls['ca'] } : {}) },
  };
}
