/**
 * The request path a RequestInfo stands for, spelled canonically. For an accepted request this is
 * exactly the path that was parsed — the classification loses nothing — so the proxy can forward
 * the path that policy judged, rebuilt from what policy saw rather than copied from the client.
 */
import { joinPath } from './canonical-path.js';
import type { RequestInfo } from './request-info.js';

export function requestPath(info: RequestInfo): string {
  if (!info.isResourceRequest) {
    if (info.path === '/') return '/';
    const trailingSlash = info.path.endsWith('/');
    const segments = info.path.slice(1, trailingSlash ? -1 : undefined).split('/');
    return joinPath(segments, trailingSlash);
  }
  const segments: string[] = [info.apiPrefix];
  if (info.apiPrefix === 'apis') segments.push(info.apiGroup);
  segments.push(info.apiVersion);
  if (info.verbFromPath) segments.push(info.verb);
  // `namespaces/{ns}` and its status/finalize keep `namespaces` as the first part; every other
  // namespaced request had the `namespaces/{ns}` prefix taken off its parts.
  if (info.namespace !== undefined && info.parts[0] !== 'namespaces')
    segments.push('namespaces', info.namespace);
  segments.push(...info.parts);
  return joinPath(segments, info.subpath?.endsWith('/') ?? false);
}
