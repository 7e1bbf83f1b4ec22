export { MAX_PATH_LENGTH } from './canonical-path.js';
export { toKubernetesAttributes } from './kubernetes-attributes.js';
export type { PodStreamOptions } from './pod-options.js';
export { MAX_QUERY_LENGTH, MAX_QUERY_PARAMS } from './query-params.js';
export {
  type NonResourceRequestInfo,
  parseRequestInfo,
  type RequestInfo,
  type RequestInfoInput,
  type ResourceRequestInfo,
} from './request-info.js';
export { requestPath } from './request-path.js';
