/**
 * Kubernetes request info: method + path + query → verb, group, version, namespace, resource,
 * subresource, name — classified exactly as the API server's `RequestInfoFactory.NewRequestInfo`
 * (k8s.io/apiserver/pkg/endpoints/request/requestinfo.go) does, so that policy judges the request
 * the server will authorise and serve. Where the server's reading depends on details another
 * parser could read differently (path encoding, repeated or case-varied parameters, odd boolean
 * spellings), the request is refused with a ProtocolError instead of being re-interpreted.
 *
 * Pure: no I/O; throws only ProtocolError.
 */
import { ProtocolError } from '@gatehouse/core';
import { splitCanonicalPath } from './canonical-path.js';
import { nameFromFieldSelector } from './field-selector.js';
import { isApiGroupName, isApiVersionName, isNamespaceName, isResourceName } from './names.js';
import { type PodStreamOptions, readPodOptions } from './pod-options.js';
import { parseQuery, readBoolean } from './query-params.js';

export interface RequestInfoInput {
  /** The request method as received (case-sensitive, like the API server). */
  readonly method: string;
  /** The path of the request target, percent-encoded as received, without the query. */
  readonly path: string;
  /** The query without its `?` (preferred), or already parsed. */
  readonly query: string | URLSearchParams;
}

export interface ResourceRequestInfo extends PodStreamOptions {
  readonly isResourceRequest: true;
  /**
   * The API server's verb: `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`,
   * `deletecollection`, or `proxy` from the legacy `/proxy/` prefix. Pod exec/attach/portforward
   * are `create` over SPDY (POST) and `get` over WebSocket (GET), as the server's request info
   * says; `toKubernetesAttributes` reports both as `create`.
   */
  readonly verb: string;
  /** The path as the API server sees it: percent-decoded. */
  readonly path: string;
  readonly apiPrefix: 'api' | 'apis';
  /** `''` for the core group. */
  readonly apiGroup: string;
  readonly apiVersion: string;
  /** Absent for cluster-scoped and all-namespace requests; for `namespaces/x` it is `x`. */
  readonly namespace?: string;
  readonly resource: string;
  readonly subresource?: string;
  /** From the path, or from `fieldSelector=metadata.name=…` on a list or watch. */
  readonly name?: string;
  /** Decoded path parts from the resource on, as the server's `Parts`. */
  readonly parts: readonly string[];
  /** The verb came from the deprecated `/watch/` or `/proxy/` path prefix. */
  readonly verbFromPath: boolean;
  /**
   * For proxy requests (and connect subresources of aggregated APIs): the path forwarded to the
   * target, built like the server's connect handler — leading `/`, trailing `/` kept, `''` if none.
   */
  readonly subpath?: string;
  /**
   * `dryRun=All` on a write to the object itself or to a subresource whose storage honours it
   * (status, scale, eviction, ephemeralcontainers, resize); never for exec/attach/portforward/proxy,
   * which have no dry run. An aggregated API server may still ignore it: information, not proof
   * that nothing happens.
   */
  readonly dryRun: boolean;
  readonly watch: boolean;
  /** The raw selectors, on list/watch/deletecollection only, as the server's request info keeps them. */
  readonly fieldSelector?: string;
  readonly labelSelector?: string;
}

export interface NonResourceRequestInfo {
  readonly isResourceRequest: false;
  /** The lower-cased method: `get`, `post`, `put`, `patch`, `delete`, `head`, `options`, … */
  readonly verb: string;
  /** Percent-decoded, as RBAC's nonResourceURLs see it (`/healthz`, `/apis/apps/v1`, `/version`). */
  readonly path: string;
}

export type RequestInfo = ResourceRequestInfo | NonResourceRequestInfo;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const METHOD_VERBS: Readonly<Record<string, string>> = {
  POST: 'create',
  GET: 'get',
  HEAD: 'get',
  PUT: 'update',
  PATCH: 'patch',
  DELETE: 'delete',
};
/** Path prefixes that set the verb (`/api/v1/watch/…`, `/api/v1/proxy/…`), both deprecated. */
const SPECIAL_VERBS = new Set(['watch', 'proxy']);
/** Subresources of a namespace, which must not be read as a resource inside it. */
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);
const SELECTOR_VERBS = new Set(['list', 'watch', 'deletecollection']);
const DRY_RUN_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);
/**
 * Subresources whose built-in storage honours dryRun. Others are left out on purpose: connect
 * subresources (exec, attach, portforward, proxy) have no dryRun option at all and would run for
 * real, and for the rest (token, binding, approval…) it is not worth betting a policy on.
 */
const DRY_RUN_SUBRESOURCES = new Set(['status', 'scale', 'eviction', 'ephemeralcontainers', 'resize']);
/** Served only over SPDY (POST) and WebSocket (GET). */
const POD_STREAM_SUBRESOURCES = new Set(['exec', 'attach', 'portforward']);

function refuse(reason: string): never {
  throw new ProtocolError(`kubernetes request refused: ${reason}`, { details: { reason } });
}

function decodedPath(segments: readonly string[], trailingSlash: boolean): string {
  return `/${segments.join('/')}${trailingSlash ? '/' : ''}`;
}

/** Classifies one request as the API server does, or throws ProtocolError. */
export function parseRequestInfo(input: RequestInfoInput): RequestInfo {
  if (typeof input !== 'object' || input === null) refuse('no request');
  const { method, path, query } = input;
  if (typeof method !== 'string' || !TOKEN.test(method)) refuse('method is not an HTTP token');
  const { segments, trailingSlash } = splitCanonicalPath(path);
  const params = parseQuery(query);
  const dryRunParam = params.single('dryRun');
  if (dryRunParam !== undefined && dryRunParam !== 'All') {
    refuse('dryRun is not "All" (the only value the API server accepts)');
  }
  const watchParam = readBoolean(params, 'watch');

  const nonResource: NonResourceRequestInfo = {
    isResourceRequest: false,
    verb: method.toLowerCase(),
    path: decodedPath(segments, trailingSlash),
  };
  const [apiPrefix] = segments;
  if (segments.length < 3 || (apiPrefix !== 'api' && apiPrefix !== 'apis')) return nonResource;
  let rest = segments.slice(1);
  let apiGroup = '';
  if (apiPrefix === 'apis') {
    // `/apis/{group}/{version}` is discovery; a resource needs one more part.
    if (rest.length < 3) return nonResource;
    apiGroup = rest[0] as string;
    if (!isApiGroupName(apiGroup)) refuse('API group is not a DNS-1123 subdomain');
    rest = rest.slice(1);
  }
  const apiVersion = rest[0] as string;
  if (!isApiVersionName(apiVersion)) refuse('API version is not a DNS-1035 label');
  rest = rest.slice(1);

  let verb: string;
  let verbFromPath = false;
  if (SPECIAL_VERBS.has(rest[0] as string)) {
    if (rest.length < 2) refuse(`"/${rest[0]}" names no resource`);
    verb = rest[0] as string;
    verbFromPath = true;
    rest = rest.slice(1);
    // The server's /watch/ routes answer GET only; anything else would be authorised as a watch.
    if (verb === 'watch' && method !== 'GET') refuse(`method ${method} on the /watch/ prefix`);
    if (METHOD_VERBS[method] === undefined) refuse(`method ${method} is not served on resource paths`);
  } else {
    const byMethod = METHOD_VERBS[method];
    // The server's verb would be '' — a request no policy can be written for.
    if (byMethod === undefined) refuse(`method ${method} is not served on resource paths`);
    verb = byMethod;
  }

  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length > 1) {
    namespace = rest[1] as string;
    if (!isNamespaceName(namespace)) refuse('namespace is not a DNS-1123 label');
    if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2] as string)) {
      rest = rest.slice(2);
      if (rest[0] === 'namespaces') refuse('namespaces inside a namespace');
    }
  }
  const parts = rest;
  const resource = parts[0] as string;
  let name = parts[1];
  const subresource = parts.length >= 3 && verb !== 'proxy' ? parts[2] : undefined;
  if (!isResourceName(resource)) refuse('resource is not a resource name');
  if (subresource !== undefined && !isResourceName(subresource)) refuse('subresource is not a resource name');

  // In the core group only proxies carry a path after the object; aggregated APIs may define
  // other connect subresources that do (KubeVirt's `portforward/22/tcp`). Anywhere else extra parts
  // or a trailing slash would reach the server unseen by policy.
  let subpathStart: number | undefined;
  if (verbFromPath && verb === 'proxy') {
    if (parts.length >= 2) subpathStart = 2;
  } else if (subresource !== undefined && (subresource === 'proxy' || apiGroup !== '')) {
    subpathStart = 3;
  }
  if (subpathStart === undefined && parts.length > 3) refuse('path continues after the subresource');
  if (subpathStart === undefined && trailingSlash) refuse('trailing slash on a resource path');
  let subpath: string | undefined;
  if (subpathStart !== undefined) {
    const joined = parts.slice(subpathStart).join('/');
    subpath = `${joined === '' ? '' : '/'}${joined}${trailingSlash ? '/' : ''}`;
    if (subpath === '' && verb !== 'proxy' && subresource !== 'proxy') subpath = undefined;
  }

  const podStream = apiGroup === '' && resource === 'pods' && POD_STREAM_SUBRESOURCES.has(subresource ?? '');
  if (podStream && method !== 'GET' && method !== 'POST') refuse(`method ${method} on pods/${subresource}`);

  if (name === undefined && verb === 'get') {
    verb = watchParam === true ? 'watch' : 'list';
    const selector = params.single('fieldSelector');
    if (selector !== undefined) name = nameFromFieldSelector(selector);
  }
  if (name === undefined && verb === 'delete') verb = 'deletecollection';

  const selectors = !verbFromPath && SELECTOR_VERBS.has(verb);
  const fieldSelector = selectors ? params.single('fieldSelector') : undefined;
  const labelSelector = selectors ? params.single('labelSelector') : undefined;
  const dryRun =
    dryRunParam === 'All' &&
    DRY_RUN_VERBS.has(verb) &&
    !verbFromPath &&
    (subresource === undefined || DRY_RUN_SUBRESOURCES.has(subresource));
  const podOptions =
    apiGroup === '' && resource === 'pods' && subresource !== undefined
      ? readPodOptions(subresource, params)
      : undefined;

  return {
    isResourceRequest: true,
    verb,
    path: decodedPath(segments, trailingSlash),
    apiPrefix,
    apiGroup,
    apiVersion,
    ...(namespace === undefined ? {} : { namespace }),
    resource,
    ...(subresource === undefined ? {} : { subresource }),
    ...(name === undefined ? {} : { name }),
    parts,
    verbFromPath,
    ...(subpath === undefined ? {} : { subpath }),
    dryRun,
    watch: verb === 'watch',
    ...(fieldSelector === undefined ? {} : { fieldSelector }),
    ...(labelSelector === undefined ? {} : { labelSelector }),
    ...podOptions,
  };
}
