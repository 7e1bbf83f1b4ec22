export { type AccessRule, canUseConnection } from './access.js';
export {
  AdminApi,
  type AdminApiOptions,
  type AdminLogReader,
  type AdminRoute,
  type AdminRouteSpec,
  type OpenRouteSpec,
  type SessionFilter,
} from './admin-api.js';
export { Gateway, type GatewayConnection, type GatewayOptions } from './gateway.js';
export { readJsonBody, sendError, sendJson } from './http-util.js';
export { createLogger, type LogLevel } from './logger.js';
export { GatewayMetrics } from './metrics.js';
export { builtinModules } from './modules.js';
export { recordingRoutes } from './recording-routes.js';
export { createRegistry, type ProtocolRegistry } from './registry.js';
export {
  connectionSettings,
  providerOptions,
  type RunningGateway,
  type StartOptions,
  startFromConfig,
} from './runtime.js';
export { denialMessage, Session, type SessionDeps } from './session.js';
export { TOKEN_ENDPOINT_PATH, tokenRoute } from './token-route.js';
