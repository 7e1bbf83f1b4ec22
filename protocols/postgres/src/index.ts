export {
  createPostgresModule,
  type PostgresModule,
  type PostgresModuleOptions,
  postgresModule,
} from './postgres-module.js';
export { CancelKeyRegistry } from './session/cancel-keys.js';
export { DEFAULT_POSTGRES_OPTIONS, type PostgresOptions, parsePostgresOptions } from './session/options.js';
export {
  type BackendMessageFilter,
  type ResultContext,
  stopgapFilter,
} from './session/result-filter.js';
export { checkStartupParameters, parseOptionsParameter } from './session/startup-params.js';
export * from './sql/index.js';
export type { FieldDescription } from './upstream/backend-messages.js';
export { ScramClient } from './upstream/scram.js';
export * as wire from './wire/index.js';
