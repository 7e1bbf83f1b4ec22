import { checkKeys, keyPath, readList, readObject } from '../config-reader.js';
import { compileGlobs, type GlobSet } from '../glob.js';
import type { KubernetesUnit } from '../units.js';

export type KubernetesMatcher = (unit: KubernetesUnit) => boolean;

/** Verbs that act on a whole collection, exposing or touching every object in it. */
const COLLECTION_VERBS = new Set(['list', 'watch', 'deletecollection']);

/**
 * Cluster-scoped resources: listing them without a namespace spans no namespace, so a rule about
 * `kube-system` has nothing to say about `kubectl get nodes`. Unknown resources (CRDs) are assumed
 * namespaced, the safe side for a deny rule.
 */
const CLUSTER_SCOPED = new Set([
  'nodes',
  'namespaces',
  'persistentvolumes',
  'componentstatuses',
  'clusterroles',
  'clusterrolebindings',
  'customresourcedefinitions',
  'storageclasses',
  'csidrivers',
  'csinodes',
  'volumeattachments',
  'priorityclasses',
  'runtimeclasses',
  'apiservices',
  'mutatingwebhookconfigurations',
  'validatingwebhookconfigurations',
  'validatingadmissionpolicies',
  'validatingadmissionpolicybindings',
  'certificatesigningrequests',
  'tokenreviews',
  'subjectaccessreviews',
  'selfsubjectaccessreviews',
  'selfsubjectrulesreviews',
  'selfsubjectreviews',
  'ingressclasses',
  'flowschemas',
  'prioritylevelconfigurations',
  'ipaddresses',
  'servicecidrs',
]);

/**
 * Deny/review rules are broad, allow rules narrow, like everywhere in the engine:
 * - `resources: [pods]` in a deny rule also covers `pods/exec`, `pods/log`…; in an allow rule it
 *   covers only `pods` itself (as in RBAC) unless `subresources` or `pods/exec` says otherwise;
 * - `namespaces` / `names` in a deny rule also match collection requests without a namespace /
 *   name (`kubectl get secrets -A` lists kube-system's secrets too); in an allow rule they require
 *   the namespace / name to be present and to match.
 * A namespace object's own name counts as its namespace (`kubectl delete ns kube-system`).
 */
export function compileKubernetesMatcher(raw: unknown, path: string, broad: boolean): KubernetesMatcher {
  const cfg = readObject(raw, path) ?? {};
  checkKeys(
    cfg,
    ['verbs', 'apiGroups', 'resources', 'subresources', 'namespaces', 'names', 'nonResourcePaths'],
    path,
  );
  const globs = (key: string, options: { path?: boolean } = {}): GlobSet | undefined => {
    const list = readList(cfg[key], keyPath(path, key));
    return list === undefined ? undefined : compileGlobs(list, options);
  };
  const verbList = readList(cfg['verbs'], keyPath(path, 'verbs'));
  const verbs = verbList === undefined ? undefined : compileGlobs(verbList.map((v) => v.toLowerCase()));
  const groups = readApiGroups(cfg['apiGroups'], keyPath(path, 'apiGroups'));
  const resourceList = readList(cfg['resources'], keyPath(path, 'resources'));
  const plainResources = resourceList?.filter((r) => !r.includes('/')) ?? [];
  const slashResources = resourceList?.filter((r) => r.includes('/')) ?? [];
  const resourceGlobs = plainResources.length > 0 ? compileGlobs(plainResources) : undefined;
  const subresourceGlobs = slashResources.length > 0 ? compileGlobs(slashResources) : undefined;
  const subresources = globs('subresources');
  const namespaces = globs('namespaces');
  const names = globs('names');
  const nonResourcePaths = globs('nonResourcePaths', { path: true });
  const resourceConditions =
    groups !== undefined ||
    resourceList !== undefined ||
    subresources !== undefined ||
    namespaces !== undefined ||
    names !== undefined;

  const resourceMatches = (u: KubernetesUnit): boolean => {
    if (u.resource === undefined) return false;
    if (u.subresource !== undefined && subresourceGlobs?.test(`${u.resource}/${u.subresource}`)) return true;
    if (resourceGlobs?.test(u.resource) !== true) return false;
    return u.subresource === undefined || broad || subresources !== undefined;
  };

  return (u) => {
    if (verbs !== undefined && !verbs.test(u.verb)) return false;
    if (u.nonResourcePath !== undefined) {
      if (resourceConditions) return false;
      return nonResourcePaths === undefined || nonResourcePaths.test(u.nonResourcePath);
    }
    if (nonResourcePaths !== undefined) return false;
    if (groups !== undefined && !groups.test(u.apiGroup)) return false;
    if (resourceList !== undefined && !resourceMatches(u)) return false;
    if (subresources !== undefined && (u.subresource === undefined || !subresources.test(u.subresource))) {
      return false;
    }
    const collection = broad && u.name === undefined && COLLECTION_VERBS.has(u.verb);
    if (namespaces !== undefined) {
      const ns = u.namespace ?? (u.resource === 'namespaces' ? u.name : undefined);
      if (ns !== undefined) {
        if (!namespaces.test(ns)) return false;
      } else if (!(collection && u.resource !== undefined && !CLUSTER_SCOPED.has(u.resource))) {
        return false;
      }
    }
    if (names !== undefined) {
      if (u.name !== undefined) {
        if (!names.test(u.name)) return false;
      } else if (!collection) {
        return false;
      }
    }
    return true;
  };
}

/** `''` and `core` both name the core group; `*` any group. */
function readApiGroups(raw: unknown, path: string): GlobSet | undefined {
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw) || raw.length === 0 || raw.some((g) => typeof g !== 'string')) {
    readList(raw, path);
  }
  const list = (raw as string[]).map((g) => (g === 'core' ? '' : g));
  const set = new Set(list);
  const wild = compileGlobs(list.filter((g) => g !== ''));
  return { patterns: list, test: (g) => set.has(g) || (g !== '' && wild.test(g)) || set.has('*') };
}
