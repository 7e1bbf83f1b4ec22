/**
 * RequestInfo → the policy engine's `KubernetesRequestAttributes`.
 *
 * One deliberate departure from the server's request info: a WebSocket exec, attach or
 * port-forward arrives as GET, so the server's request info says `get`, while the same action over
 * SPDY (POST) says `create`. Since Kubernetes 1.35 the API server closes that gap by also requiring
 * `create` for the WebSocket upgrade (AuthorizePodWebsocketUpgradeCreatePermission); policy gets
 * `create` for both, so a rule denying `create` on `pods/exec` cannot be walked around by switching
 * transports.
 */
import type { KubernetesRequestAttributes } from '@gatehouse/policy';
import type { RequestInfo } from './request-info.js';

const POD_STREAM_SUBRESOURCES = new Set(['exec', 'attach', 'portforward']);

export function toKubernetesAttributes(info: RequestInfo): KubernetesRequestAttributes {
  if (!info.isResourceRequest) {
    return { verb: info.verb, apiGroup: '', apiVersion: '', nonResourcePath: info.path };
  }
  const podStream =
    info.apiGroup === '' &&
    info.resource === 'pods' &&
    info.subresource !== undefined &&
    POD_STREAM_SUBRESOURCES.has(info.subresource);
  return {
    verb: podStream && info.verb === 'get' ? 'create' : info.verb,
    apiGroup: info.apiGroup,
    apiVersion: info.apiVersion,
    resource: info.resource,
    ...(info.subresource === undefined ? {} : { subresource: info.subresource }),
    ...(info.namespace === undefined ? {} : { namespace: info.namespace }),
    ...(info.name === undefined ? {} : { name: info.name }),
  };
}
