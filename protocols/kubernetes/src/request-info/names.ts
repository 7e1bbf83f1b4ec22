/**
 * Cheap validity checks for the path segments that name things. They refuse what the API server
 * could never serve, so a look-alike (`Kube-System`, `kube-system.`) cannot slip past a policy
 * glob and then be read differently somewhere else. Object names are left loose on purpose: many
 * resources allow more than DNS names (`system:controller:…` cluster roles, `https:svc:443` proxy
 * targets), so a name only has to be a valid path segment, as apimachinery's
 * `IsValidPathSegmentName` requires.
 */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Resource and subresource names: lower-case plurals in practice; aggregated APIs add `_` and `.`. */
const RESOURCE_TOKEN = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Namespaces are DNS-1123 labels. */
export function isNamespaceName(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL.test(s);
}

/** API groups are DNS-1123 subdomains (`apps`, `rbac.authorization.k8s.io`). */
export function isApiGroupName(s: string): boolean {
  return s.length <= 253 && DNS1123_SUBDOMAIN.test(s);
}

/** API versions are DNS-1035 labels (`v1`, `v1beta1`), as APIService and CRD validation require. */
export function isApiVersionName(s: string): boolean {
  return s.length <= 63 && DNS1035_LABEL.test(s);
}

export function isResourceName(s: string): boolean {
  return s.length <= 253 && RESOURCE_TOKEN.test(s);
}

/** apimachinery `path.IsValidPathSegmentName`: not `.`/`..`, no `/` or `%`. */
export function isValidPathSegmentName(s: string): boolean {
  return s !== '.' && s !== '..' && !s.includes('/') && !s.includes('%');
}
