/**
 * The requests kubectl and client-go actually send (paths and queries as `url.Values.Encode` and
 * `url.URL.EscapedPath` spell them), with the classification the API server gives them.
 */
import { describe, expect, it } from 'vitest';
import { toKubernetesAttributes } from './kubernetes-attributes.js';
import { parseRequestInfo, type RequestInfo, type ResourceRequestInfo } from './request-info.js';

function parse(method: string, url: string): RequestInfo {
  const q = url.indexOf('?');
  return parseRequestInfo({
    method,
    path: q === -1 ? url : url.slice(0, q),
    query: q === -1 ? '' : url.slice(q + 1),
  });
}

function resource(method: string, url: string): ResourceRequestInfo {
  const info = parse(method, url);
  if (!info.isResourceRequest) throw new Error(`${url} is not a resource request`);
  return info;
}

describe('discovery and other non-resource requests', () => {
  // Aggregated discovery differs from the legacy kind only in its Accept header: same paths.
  it.each([
    ['/api'],
    ['/apis'],
    ['/api/v1'],
    ['/apis/apps'],
    ['/apis/apps/v1'],
    ['/version'],
    ['/openapi/v2'],
    ['/openapi/v3'],
    ['/openapi/v3/apis/apps/v1?hash=4A7F0C2E9B1D3A5C6E8F0B2D4A6C8E0F1A3B5C7D9E1F3A5B7C9D1E3F5A7B9C1D'],
    ['/healthz'],
    ['/livez?verbose'],
    ['/readyz/etcd'],
    ['/metrics'],
    ['/logs/'],
  ])('GET %s', (url) => {
    const path = url.split('?')[0] as string;
    const info = parse('GET', url);
    expect(info).toEqual({ isResourceRequest: false, verb: 'get', path });
    expect(toKubernetesAttributes(info)).toEqual({
      verb: 'get',
      apiGroup: '',
      apiVersion: '',
      nonResourcePath: path,
    });
  });

  it('lower-cases other methods as the server does', () => {
    expect(parse('POST', '/apis')).toMatchObject({ verb: 'post' });
    expect(parse('OPTIONS', '/version')).toMatchObject({ verb: 'options' });
  });
});

describe('get, list and watch', () => {
  it('kubectl get pods', () => {
    expect(resource('GET', '/api/v1/namespaces/default/pods?limit=500')).toEqual({
      isResourceRequest: true,
      verb: 'list',
      path: '/api/v1/namespaces/default/pods',
      apiPrefix: 'api',
      apiGroup: '',
      apiVersion: 'v1',
      namespace: 'default',
      resource: 'pods',
      parts: ['pods'],
      verbFromPath: false,
      dryRun: false,
      watch: false,
    });
  });

  it('kubectl get pods -A lists across namespaces', () => {
    const info = resource('GET', '/api/v1/pods?limit=500');
    expect(info).toMatchObject({ verb: 'list', resource: 'pods', watch: false });
    expect(info.namespace).toBeUndefined();
  });

  it('kubectl get pods -w watches with a query parameter', () => {
    const info = resource('GET', '/api/v1/namespaces/x/pods?resourceVersion=1234&watch=true');
    expect(info).toMatchObject({ verb: 'watch', watch: true, namespace: 'x', resource: 'pods' });
    expect(info.name).toBeUndefined();
  });

  it('kubectl get pod p -w watches one object through a metadata.name field selector', () => {
    const info = resource(
      'GET',
      '/api/v1/namespaces/x/pods?fieldSelector=metadata.name%3Dweb-0&resourceVersion=1234&watch=true',
    );
    expect(info).toMatchObject({ verb: 'watch', name: 'web-0', fieldSelector: 'metadata.name=web-0' });
  });

  it('the legacy /watch/ prefix', () => {
    expect(resource('GET', '/api/v1/watch/namespaces/x/pods')).toMatchObject({
      verb: 'watch',
      watch: true,
      verbFromPath: true,
      namespace: 'x',
      resource: 'pods',
      parts: ['pods'],
    });
    expect(resource('GET', '/api/v1/watch/namespaces/x/pods/p')).toMatchObject({ verb: 'watch', name: 'p' });
  });

  it('a label selector on a list is kept for the record', () => {
    expect(resource('GET', '/apis/apps/v1/namespaces/x/deployments?labelSelector=app%3Dweb')).toMatchObject({
      verb: 'list',
      labelSelector: 'app=web',
    });
  });
});

describe('writes', () => {
  it('kubectl apply --server-side --dry-run=server patches with dryRun=All', () => {
    const info = resource(
      'PATCH',
      '/apis/apps/v1/namespaces/x/deployments/web?dryRun=All&fieldManager=kubectl&fieldValidation=Strict&force=false',
    );
    expect(info).toMatchObject({
      verb: 'patch',
      apiGroup: 'apps',
      resource: 'deployments',
      name: 'web',
      dryRun: true,
    });
  });

  it('create and delete with dryRun=All', () => {
    expect(
      resource('POST', '/api/v1/namespaces/x/configmaps?dryRun=All&fieldManager=kubectl-create'),
    ).toMatchObject({
      verb: 'create',
      dryRun: true,
    });
    expect(resource('DELETE', '/api/v1/namespaces/x/pods/p?dryRun=All')).toMatchObject({
      verb: 'delete',
      dryRun: true,
    });
  });

  it('without dryRun nothing is a dry run', () => {
    expect(resource('PATCH', '/apis/apps/v1/namespaces/x/deployments/web')).toMatchObject({ dryRun: false });
  });

  it('DELETE on a collection is deletecollection', () => {
    expect(resource('DELETE', '/api/v1/namespaces/x/pods?labelSelector=app%3Dweb')).toMatchObject({
      verb: 'deletecollection',
      resource: 'pods',
      namespace: 'x',
      labelSelector: 'app=web',
    });
  });

  it('kubectl delete namespace x: the namespace is both name and namespace', () => {
    expect(resource('DELETE', '/api/v1/namespaces/team-a')).toMatchObject({
      verb: 'delete',
      resource: 'namespaces',
      name: 'team-a',
      namespace: 'team-a',
      parts: ['namespaces', 'team-a'],
    });
  });

  it('kubectl create namespace x posts to the cluster-scoped collection', () => {
    const info = resource('POST', '/api/v1/namespaces?fieldManager=kubectl-create');
    expect(info).toMatchObject({ verb: 'create', resource: 'namespaces' });
    expect(info.namespace).toBeUndefined();
  });
});

describe('cluster-scoped resources and custom resources', () => {
  it.each([
    ['GET', '/api/v1/nodes/node-1', { verb: 'get', resource: 'nodes', name: 'node-1' }],
    ['GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles', { verb: 'list', resource: 'clusterroles' }],
    [
      'GET',
      '/apis/rbac.authorization.k8s.io/v1/clusterroles/system:controller:job-controller',
      { verb: 'get', name: 'system:controller:job-controller' },
    ],
    [
      'DELETE',
      '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/crontabs.stable.example.com',
      { verb: 'delete', name: 'crontabs.stable.example.com' },
    ],
    ['GET', '/apis/stable.example.com/v1/crontabs', { verb: 'list', apiGroup: 'stable.example.com' }],
  ] as const)('%s %s', (method, url, expected) => {
    const info = resource(method, url);
    expect(info).toMatchObject(expected);
    expect(info.namespace).toBeUndefined();
  });

  it('a namespaced custom resource and its status', () => {
    expect(resource('GET', '/apis/stable.example.com/v1/namespaces/x/crontabs/nightly')).toMatchObject({
      verb: 'get',
      apiGroup: 'stable.example.com',
      apiVersion: 'v1',
      namespace: 'x',
      resource: 'crontabs',
      name: 'nightly',
    });
    expect(resource('PUT', '/apis/stable.example.com/v1/namespaces/x/crontabs/nightly/status')).toMatchObject(
      {
        verb: 'update',
        subresource: 'status',
      },
    );
  });
});

describe('subresources', () => {
  it('status, scale and ephemeralcontainers', () => {
    expect(resource('PUT', '/api/v1/namespaces/x/pods/p/status')).toMatchObject({
      verb: 'update',
      subresource: 'status',
      name: 'p',
    });
    expect(resource('GET', '/apis/apps/v1/namespaces/x/deployments/web/scale')).toMatchObject({
      verb: 'get',
      subresource: 'scale',
    });
    expect(resource('PATCH', '/apis/apps/v1/namespaces/x/deployments/web/scale?dryRun=All')).toMatchObject({
      verb: 'patch',
      subresource: 'scale',
      dryRun: true,
    });
    // kubectl debug adds an ephemeral container with a strategic merge patch.
    expect(resource('PATCH', '/api/v1/namespaces/x/pods/p/ephemeralcontainers')).toMatchObject({
      verb: 'patch',
      resource: 'pods',
      subresource: 'ephemeralcontainers',
      name: 'p',
    });
  });

  it('kubectl drain evicts', () => {
    expect(resource('POST', '/api/v1/namespaces/x/pods/p/eviction')).toMatchObject({
      verb: 'create',
      subresource: 'eviction',
    });
  });

  it('kubectl logs -f', () => {
    expect(
      resource('GET', '/api/v1/namespaces/x/pods/p/log?container=app&follow=true&tailLines=10'),
    ).toMatchObject({
      verb: 'get',
      subresource: 'log',
      name: 'p',
      container: 'app',
      follow: true,
    });
    expect(resource('GET', '/api/v1/namespaces/x/pods/p/log')).toMatchObject({ follow: false });
  });
});

describe('exec, attach and port-forward', () => {
  it('kubectl exec over SPDY: the argv, container and streams', () => {
    const info = resource(
      'POST',
      '/api/v1/namespaces/x/pods/p/exec?command=sh&command=-c&command=id&stdin=true&tty=true',
    );
    expect(info).toMatchObject({
      verb: 'create',
      resource: 'pods',
      subresource: 'exec',
      namespace: 'x',
      name: 'p',
      execCommand: ['sh', '-c', 'id'],
      stdin: true,
      stdout: false,
      stderr: false,
      tty: true,
      dryRun: false,
    });
    expect(info.container).toBeUndefined();
  });

  it('kubectl exec -c app -- sh -c "echo hi && id" as url.Values.Encode spells it', () => {
    const info = resource(
      'POST',
      '/api/v1/namespaces/x/pods/p/exec?command=sh&command=-c&command=echo+hi+%26%26+id&container=app&stderr=true&stdout=true',
    );
    expect(info).toMatchObject({
      execCommand: ['sh', '-c', 'echo hi && id'],
      container: 'app',
      stdin: false,
      stdout: true,
      stderr: true,
      tty: false,
    });
  });

  it('exec over WebSocket is a GET: the server says get, policy gets create', () => {
    const info = resource('GET', '/api/v1/namespaces/x/pods/p/exec?command=id&container=app&stdout=true');
    expect(info.verb).toBe('get');
    expect(toKubernetesAttributes(info)).toEqual({
      verb: 'create',
      apiGroup: '',
      apiVersion: 'v1',
      resource: 'pods',
      subresource: 'exec',
      namespace: 'x',
      name: 'p',
    });
  });

  it('dryRun=All means nothing to exec: it is not reported as a dry run', () => {
    expect(resource('POST', '/api/v1/namespaces/x/pods/p/exec?command=rm&dryRun=All')).toMatchObject({
      dryRun: false,
      execCommand: ['rm'],
    });
  });

  it('kubectl attach', () => {
    expect(
      resource('POST', '/api/v1/namespaces/x/pods/p/attach?container=app&stdin=true&stdout=true&tty=true'),
    ).toMatchObject({
      verb: 'create',
      subresource: 'attach',
      container: 'app',
      stdin: true,
      stdout: true,
      tty: true,
    });
  });

  it('kubectl port-forward over SPDY sends ports per stream, not in the query', () => {
    const info = resource('POST', '/api/v1/namespaces/x/pods/p/portforward');
    expect(info).toMatchObject({ verb: 'create', subresource: 'portforward' });
    expect(info.ports).toBeUndefined();
  });

  it('port-forward over WebSocket lists ports in the query, comma-separated or repeated', () => {
    expect(
      resource('GET', '/api/v1/namespaces/x/pods/p/portforward?ports=8080,9090&ports=5432'),
    ).toMatchObject({
      verb: 'get',
      ports: [8080, 9090, 5432],
    });
  });
});

describe('proxy', () => {
  it('kubectl proxy to a service port, with its subpath', () => {
    expect(resource('GET', '/api/v1/namespaces/x/services/web:80/proxy/some/path?q=1')).toMatchObject({
      verb: 'get',
      resource: 'services',
      subresource: 'proxy',
      name: 'web:80',
      namespace: 'x',
      subpath: '/some/path',
      parts: ['services', 'web:80', 'proxy', 'some', 'path'],
    });
  });

  it('a trailing slash is part of the proxied path', () => {
    expect(
      resource('GET', '/api/v1/namespaces/kube-system/services/https:kubernetes-dashboard:/proxy/'),
    ).toMatchObject({ name: 'https:kubernetes-dashboard:', subpath: '/' });
    expect(resource('GET', '/api/v1/namespaces/x/services/web/proxy/app/')).toMatchObject({
      subpath: '/app/',
    });
    expect(resource('POST', '/api/v1/namespaces/x/pods/p:8080/proxy')).toMatchObject({
      verb: 'create',
      subpath: '',
    });
  });

  it('node proxy', () => {
    expect(resource('GET', '/api/v1/nodes/node-1/proxy/metrics')).toMatchObject({
      resource: 'nodes',
      subresource: 'proxy',
      name: 'node-1',
      subpath: '/metrics',
    });
  });

  it('the legacy /proxy/ prefix: verb proxy, no subresource, the rest is the subpath', () => {
    expect(resource('GET', '/api/v1/proxy/namespaces/x/pods/p/healthz')).toMatchObject({
      verb: 'proxy',
      verbFromPath: true,
      name: 'p',
      subpath: '/healthz',
    });
  });

  it('subresources of aggregated APIs may carry a subpath too', () => {
    expect(
      resource(
        'GET',
        '/apis/subresources.kubevirt.io/v1/namespaces/x/virtualmachineinstances/vm/portforward/22/tcp',
      ),
    ).toMatchObject({ subresource: 'portforward', name: 'vm', subpath: '/22/tcp' });
  });
});
