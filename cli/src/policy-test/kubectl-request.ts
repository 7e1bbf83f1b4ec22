/**
 * Turns a kubectl-style line (`delete pods -n kube-system`, `get pod web-1`, `exec web-1 -- sh`) or
 * a raw `METHOD /path?query` into the HTTP request kubectl would send, so that `policy test` judges
 * it through the same request-info classifier the Kubernetes module uses.
 */

interface ResourceInfo {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

const CORE = (plural: string, namespaced = true): ResourceInfo => ({
  group: '',
  version: 'v1',
  plural,
  namespaced,
});
const APPS = (plural: string): ResourceInfo => ({ group: 'apps', version: 'v1', plural, namespaced: true });

/** kubectl's names, short names and singulars for the resources people name most. */
const RESOURCES: Record<string, ResourceInfo> = {
  pods: CORE('pods'),
  services: CORE('services'),
  secrets: CORE('secrets'),
  configmaps: CORE('configmaps'),
  serviceaccounts: CORE('serviceaccounts'),
  persistentvolumeclaims: CORE('persistentvolumeclaims'),
  events: CORE('events'),
  endpoints: CORE('endpoints'),
  namespaces: CORE('namespaces', false),
  nodes: CORE('nodes', false),
  persistentvolumes: CORE('persistentvolumes', false),
  deployments: APPS('deployments'),
  statefulsets: APPS('statefulsets'),
  daemonsets: APPS('daemonsets'),
  replicasets: APPS('replicasets'),
  jobs: { group: 'batch', version: 'v1', plural: 'jobs', namespaced: true },
  cronjobs: { group: 'batch', version: 'v1', plural: 'cronjobs', namespaced: true },
  ingresses: { group: 'networking.k8s.io', version: 'v1', plural: 'ingresses', namespaced: true },
  roles: { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'roles', namespaced: true },
  rolebindings: {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    plural: 'rolebindings',
    namespaced: true,
  },
  clusterroles: {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    plural: 'clusterroles',
    namespaced: false,
  },
  clusterrolebindings: {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    plural: 'clusterrolebindings',
    namespaced: false,
  },
};

const ALIASES: Record<string, string> = {
  po: 'pods',
  pod: 'pods',
  svc: 'services',
  service: 'services',
  secret: 'secrets',
  cm: 'configmaps',
  configmap: 'configmaps',
  sa: 'serviceaccounts',
  serviceaccount: 'serviceaccounts',
  pvc: 'persistentvolumeclaims',
  ev: 'events',
  ep: 'endpoints',
  ns: 'namespaces',
  namespace: 'namespaces',
  no: 'nodes',
  node: 'nodes',
  pv: 'persistentvolumes',
  deploy: 'deployments',
  deployment: 'deployments',
  sts: 'statefulsets',
  statefulset: 'statefulsets',
  ds: 'daemonsets',
  daemonset: 'daemonsets',
  rs: 'replicasets',
  replicaset: 'replicasets',
  job: 'jobs',
  cj: 'cronjobs',
  cronjob: 'cronjobs',
  ing: 'ingresses',
  ingress: 'ingresses',
  role: 'roles',
  rolebinding: 'rolebindings',
  clusterrole: 'clusterroles',
  clusterrolebinding: 'clusterrolebindings',
};

export interface KubectlRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
}

const VERB_METHOD: Record<string, string> = {
  get: 'GET',
  describe: 'GET',
  delete: 'DELETE',
  create: 'POST',
  apply: 'PATCH',
  patch: 'PATCH',
  edit: 'PATCH',
  replace: 'PUT',
  label: 'PATCH',
  annotate: 'PATCH',
  scale: 'PUT',
};

/** Throws an Error with a usage message for lines it cannot translate. */
export function kubectlRequest(line: string): KubectlRequest {
  const raw = /^([A-Z]+)\s+(\/\S*)$/.exec(line.trim());
  if (raw) {
    const [path, query = ''] = (raw[2] as string).split('?', 2) as [string, string?];
    return { method: raw[1] as string, path, query };
  }
  const words = line.trim().split(/\s+/);
  const dashdash = words.indexOf('--');
  const command = dashdash >= 0 ? words.slice(dashdash + 1) : [];
  const args = dashdash >= 0 ? words.slice(0, dashdash) : words;
  let namespace = 'default';
  let allNamespaces = false;
  let container: string | undefined;
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '-n' || a === '--namespace') namespace = args[++i] ?? namespace;
    else if (a.startsWith('--namespace=')) namespace = a.slice('--namespace='.length);
    else if (a === '-A' || a === '--all-namespaces') allNamespaces = true;
    else if (a === '-c' || a === '--container') container = args[++i];
    else if (a === '-f' || a === '--follow' || a === '-it' || a === '-i' || a === '-t') continue;
    else if (a.startsWith('-')) continue;
    else positional.push(a);
  }
  const [verb, ...rest] = positional;
  if (verb === undefined) throw new Error('say what to do, e.g. "get pods -n default" or "GET /api/v1/pods"');
  if (verb === 'exec' || verb === 'attach' || verb === 'logs' || verb === 'port-forward') {
    const pod = (rest[0] ?? '').replace(/^(pods?|po)\//, '');
    if (pod === '') throw new Error(`kubectl ${verb} needs a pod name`);
    const base = `/api/v1/namespaces/${namespace}/pods/${pod}`;
    const params = new URLSearchParams();
    if (container !== undefined) params.append('container', container);
    if (verb === 'logs') return { method: 'GET', path: `${base}/log`, query: params.toString() };
    if (verb === 'port-forward') {
      for (const p of rest.slice(1)) params.append('ports', p.split(':').pop() as string);
      return { method: 'POST', path: `${base}/portforward`, query: params.toString() };
    }
    for (const c of command) params.append('command', c);
    params.append('stdin', 'true');
    return { method: 'POST', path: `${base}/${verb}`, query: params.toString() };
  }
  const method = VERB_METHOD[verb];
  if (method === undefined) throw new Error(`unsupported kubectl verb "${verb}"; use "METHOD /path" instead`);
  const [kindAndName, maybeName] = rest;
  if (kindAndName === undefined) throw new Error(`kubectl ${verb} needs a resource, e.g. "${verb} pods"`);
  const [kind, slashName] = kindAndName.split('/', 2) as [string, string?];
  const name = slashName ?? maybeName;
  const resource = RESOURCES[ALIASES[kind.toLowerCase()] ?? kind.toLowerCase()];
  if (resource === undefined) throw new Error(`unknown resource "${kind}"; use "METHOD /path" instead`);
  const prefix =
    resource.group === '' ? `/api/${resource.version}` : `/apis/${resource.group}/${resource.version}`;
  const scope = resource.namespaced && !allNamespaces ? `/namespaces/${namespace}` : '';
  const collection = `${prefix}${scope}/${resource.plural}`;
  if (verb === 'create') return { method, path: collection, query: '' };
  if (verb === 'scale') {
    if (name === undefined) throw new Error('kubectl scale needs a name');
    return { method, path: `${collection}/${name}/scale`, query: '' };
  }
  return { method, path: name === undefined ? collection : `${collection}/${name}`, query: '' };
}
