export {
  createPostgresModule,
  type PostgresModule,
  type PostgresModuleOptions,
  postgresModule,
} from './postgres-module.js';
export { CancelKeyRegistry } from './session/cancel-keys.js';
export { resultMaskingFilter } from './session/masking-filter.js';
export { DEFAULT_POSTGRES_OPTIONS, type PostgresOptions, parsePostgresOptions } from './session/options.js';
export type { BackendMessageFilter, ResultContext } from './session/result-filter.js';
export { checkStartupParameters, parseOptionsParameter } from './session/startup-params.js';
export * from './sql/index.js';
export { ScramClient } from './upstream/scram.js';
export * as wire from './wire/index.js';
