/**
 * Properties over arbitrary requests:
 * - the parser returns or throws a ProtocolError, never anything else;
 * - an accepted path is rebuilt, byte for byte, from what the parser returned;
 * - an accepted request is classified exactly as a line-by-line port of the API server's
 *   NewRequestInfo classifies the decoded path (an independent oracle: it decodes with
 *   decodeURIComponent and splits like Go's strings.Trim + strings.Split).
 */
import { ProtocolError } from '@gatehouse/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRequestInfo, type RequestInfoInput } from './request-info.js';
import { requestPath } from './request-path.js';

/** requestinfo.go, minus field selectors (compared separately), over an already decoded path. */
function goNewRequestInfo(method: string, path: string, watchValues: readonly string[]) {
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  let parts = trimmed === '' ? [] : trimmed.split('/');
  const nonResource = { isResourceRequest: false, verb: method.toLowerCase() };
  if (parts.length < 3 || (parts[0] !== 'api' && parts[0] !== 'apis')) return nonResource;
  const apiPrefix = parts[0];
  parts = parts.slice(1);
  let apiGroup = '';
  if (apiPrefix !== 'api') {
    if (parts.length < 3) return nonResource;
    apiGroup = parts[0] as string;
    parts = parts.slice(1);
  }
  const apiVersion = parts[0];
  parts = parts.slice(1);
  let verb: string;
  if (parts[0] === 'proxy' || parts[0] === 'watch') {
    if (parts.length < 2) return { error: true };
    verb = parts[0];
    parts = parts.slice(1);
  } else {
    const byMethod: Record<string, string> = {
      POST: 'create',
      GET: 'get',
      HEAD: 'get',
      PUT: 'update',
      PATCH: 'patch',
      DELETE: 'delete',
    };
    verb = byMethod[method] ?? '';
  }
  let namespace = '';
  if (parts[0] === 'namespaces' && parts.length > 1) {
    namespace = parts[1] as string;
    if (parts.length > 2 && parts[2] !== 'status' && parts[2] !== 'finalize') parts = parts.slice(2);
  }
  const subresource = parts.length >= 3 && verb !== 'proxy' ? parts[2] : '';
  const name = parts.length >= 2 ? parts[1] : '';
  const resource = parts[0];
  if (name === '' && verb === 'get') {
    const first = watchValues[0];
    verb = first !== undefined && first.toLowerCase() !== 'false' && first !== '0' ? 'watch' : 'list';
  }
  if (name === '' && verb === 'delete') verb = 'deletecollection';
  return {
    isResourceRequest: true,
    verb,
    apiPrefix,
    apiGroup,
    apiVersion,
    namespace,
    resource,
    subresource,
    name,
    parts,
  };
}

const segment = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom('api', 'apis', 'v1', 'v1beta1', 'apps', 'stable.example.com', 'namespaces'),
  },
  {
    weight: 6,
    arbitrary: fc.constantFrom('x', 'kube-system', 'pods', 'p', 'nodes', 'services', 's:80', 'deployments'),
  },
  {
    weight: 5,
    arbitrary: fc.constantFrom(
      'exec',
      'attach',
      'portforward',
      'log',
      'proxy',
      'watch',
      'status',
      'finalize',
      'scale',
    ),
  },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      '',
      '.',
      '..',
      '..;x',
      '%2F',
      '%2f',
      '%2E',
      '%25',
      '%252F',
      '%00',
      '%0A',
      '%C0%AE',
      '%C3',
    ),
  },
  {
    weight: 3,
    arbitrary: fc.constantFrom('%EF%BC%8F', '%EF%BC%8E%EF%BC%8E', '%5C', '\\', 'é', '%C3%A9', ' ', '?', '#'),
  },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'a:b',
      '(x)',
      '%28x%29',
      '%3A',
      '%41',
      'Kube',
      'a;b',
      'a%20b',
      '%E2%82%AC',
      '~',
    ),
  },
  { weight: 2, arbitrary: fc.string({ maxLength: 6 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 4 }) },
);

/** Shaped like API paths, so that many are accepted and reach the classification. */
const apiPath = fc
  .tuple(
    fc.constantFrom(
      ['api', 'v1'],
      ['apis', 'apps', 'v1'],
      ['apis', 'stable.example.com', 'v1beta1'],
      ['api'],
      ['apis'],
    ),
    fc.constantFrom(null, null, null, null, null, null, 'watch', 'proxy'),
    fc.option(fc.tuple(fc.constant('namespaces'), fc.constantFrom('x', 'kube-system')), { freq: 2 }),
    fc.array(
      fc.oneof(
        {
          weight: 5,
          arbitrary: fc.constantFrom(
            'pods',
            'p',
            'namespaces',
            'x',
            'exec',
            'proxy',
            'status',
            'finalize',
            'log',
            's:80',
            'a%20b',
          ),
        },
        { weight: 1, arbitrary: segment },
      ),
      {
        maxLength: 5,
      },
    ),
    fc.constantFrom(false, false, false, true),
  )
  .map(([prefix, special, ns, rest, slash]) => {
    const segments = [...prefix, ...(special === null ? [] : [special]), ...(ns ?? []), ...rest];
    return `/${segments.join('/')}${slash ? '/' : ''}`;
  });

const path = fc.oneof(
  { weight: 8, arbitrary: apiPath },
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.array(segment, { maxLength: 9 }), fc.boolean())
      .map(([segments, slash]) => `/${segments.join('/')}${slash && segments.length > 0 ? '/' : ''}`),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
);

const method = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE') },
  { weight: 1, arbitrary: fc.constantFrom('OPTIONS', 'CONNECT', 'get', 'G ET', '', 'PROPFIND') },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
);

const key = fc.oneof(
  fc.constantFrom(
    'watch',
    'dryRun',
    'fieldSelector',
    'labelSelector',
    'command',
    'container',
    'stdin',
    'tty',
  ),
  fc.constantFrom('ports', 'follow', 'Watch', 'DRYRUN', 'limit', 'a;b', '%00', '?x'),
  fc.string({ maxLength: 5 }),
);
const value = fc.oneof(
  fc.constantFrom(
    'true',
    'false',
    '1',
    '0',
    '',
    'All',
    'all',
    'yes',
    'TRUE',
    'metadata.name=a',
    'metadata.name%3Db',
  ),
  fc.constantFrom(
    'metadata.name=a,metadata.name=b',
    '80,443',
    '0',
    'a;b',
    '%00',
    '%zz',
    '%C0%AE',
    'a+b%20c',
    'x#y',
  ),
  fc.string({ maxLength: 8 }),
  fc.string({ unit: 'binary', maxLength: 4 }),
);
const pair = fc.tuple(key, value);
const query = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      '',
      'watch=true',
      'watch=0',
      'fieldSelector=metadata.name%3Da',
      'dryRun=All',
      'command=id&command=-u&stdin=1',
    ),
  },
  {
    weight: 6,
    arbitrary: fc.array(pair, { maxLength: 5 }).map((ps) => ps.map(([k, v]) => `${k}=${v}`).join('&')),
  },
  { weight: 2, arbitrary: fc.array(pair, { maxLength: 5 }).map((ps) => new URLSearchParams(ps)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
);

const request = fc.record({ method, path, query });

function attempt(input: RequestInfoInput) {
  try {
    return parseRequestInfo(input);
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    return undefined;
  }
}

function watchValues(query: string | URLSearchParams): string[] {
  const params = typeof query === 'string' ? new URLSearchParams(query) : query;
  return params.getAll('watch');
}

describe('parseRequestInfo properties', () => {
  it('throws nothing but ProtocolError', () => {
    fc.assert(
      fc.property(request, (input) => {
        attempt(input);
      }),
      { numRuns: 20_000 },
    );
  });

  it('throws nothing but ProtocolError on inputs of the wrong shape', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), (m, p, q) => {
        attempt({ method: m, path: p, query: q } as never);
      }),
      { numRuns: 2_000 },
    );
  });

  it('rebuilds every accepted path exactly from what it returned', () => {
    fc.assert(
      fc.property(request, (input) => {
        const info = attempt(input);
        if (info !== undefined) expect(requestPath(info)).toBe(input.path);
      }),
      { numRuns: 20_000 },
    );
  });

  it('classifies every accepted request as the API server does', () => {
    fc.assert(
      fc.property(request, (input) => {
        const info = attempt(input);
        if (info === undefined) return;
        const go = goNewRequestInfo(input.method, decodeURIComponent(input.path), watchValues(input.query));
        if (!info.isResourceRequest) {
          expect(go).toEqual({ isResourceRequest: false, verb: info.verb });
          expect(info.path).toBe(decodeURIComponent(input.path));
          return;
        }
        // The name a list or watch takes from fieldSelector is field-selector.test.ts's business.
        const params = typeof input.query === 'string' ? new URLSearchParams(input.query) : input.query;
        const fromSelector = params.has('fieldSelector') && 'name' in go && go.name === '';
        expect({
          isResourceRequest: true,
          verb: info.verb,
          apiPrefix: info.apiPrefix,
          apiGroup: info.apiGroup,
          apiVersion: info.apiVersion,
          namespace: info.namespace ?? '',
          resource: info.resource,
          subresource: info.subresource ?? '',
          name: fromSelector ? '' : (info.name ?? ''),
          parts: info.parts,
        }).toEqual(go);
      }),
      { numRuns: 20_000 },
    );
  });

  it('accepts canonical kubectl-shaped requests', () => {
    const ns = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?$/);
    const name = fc
      .stringMatching(/^[a-z0-9][-a-z0-9.:]{0,20}$/)
      .filter((n) => n !== '.' && !n.includes('..'));
    fc.assert(
      fc.property(
        fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE'),
        ns,
        fc.constantFrom('pods', 'configmaps', 'secrets'),
        fc.option(name, { nil: undefined }),
        (m, namespace, resource, n) => {
          const p = `/api/v1/namespaces/${namespace}/${resource}${n === undefined ? '' : `/${n}`}`;
          const info = parseRequestInfo({ method: m, path: p, query: 'limit=500' });
          expect(info).toMatchObject({ isResourceRequest: true, namespace, resource });
          expect(requestPath(info)).toBe(p);
        },
      ),
    );
  });
});
