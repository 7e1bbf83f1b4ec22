import { describe, expect, it } from 'vitest';
import { parseRequestInfo } from './request-info.js';
import { requestPath } from './request-path.js';

describe('requestPath rebuilds the parsed path', () => {
  it.each([
    ['GET', '/'],
    ['GET', '/logs/'],
    ['GET', '/apis/apps/v1'],
    ['GET', '/api/v1/namespaces'],
    ['GET', '/api/v1/namespaces/x'],
    ['PUT', '/api/v1/namespaces/x/finalize'],
    ['PUT', '/api/v1/namespaces/x/status'],
    ['GET', '/api/v1/namespaces/x/pods'],
    ['GET', '/api/v1/namespaces/x/pods/p/log'],
    ['GET', '/api/v1/watch/namespaces/x/pods'],
    ['GET', '/api/v1/proxy/namespaces/x/pods/p/a/b'],
    ['GET', '/api/v1/namespaces/x/services/https:web:443/proxy/'],
    ['GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles/system%3Cx%3E'],
    ['GET', '/api/v1/namespaces/x/services/web/proxy/caf%C3%A9/%28a%29'],
  ])('%s %s', (method, path) => {
    expect(requestPath(parseRequestInfo({ method, path, query: '' }))).toBe(path);
  });
});
