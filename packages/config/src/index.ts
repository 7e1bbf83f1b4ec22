export { formatListen, listenOverlaps, parseListen } from './listen.js';
export { type LoadConfigOptions, loadConfig, type ParseConfigOptions, parseConfig } from './load.js';
export { type RedactedConfig, redactConfig } from './redact.js';
export { buildConfigSchema, configSchema } from './schema.js';
export * from './types.js';
