import { checkKeys, keyPath, readList, readObject } from '../config-reader.js';
import { compileGlobs } from '../glob.js';
import type { HttpUnit } from '../units.js';

export type HttpMatcher = (unit: HttpUnit) => boolean;

/**
 * `methods` (case-insensitive, `*` for any), `paths` (path globs, tested against the normalised and
 * the percent-decoded path: any form for deny/review, every form for allow) and `headers` (names
 * that must all be present).
 */
export function compileHttpMatcher(raw: unknown, path: string, broad: boolean): HttpMatcher {
  const cfg = readObject(raw, path) ?? {};
  checkKeys(cfg, ['methods', 'paths', 'headers'], path);
  const methodList = readList(cfg['methods'], keyPath(path, 'methods'));
  const methods = methodList === undefined ? undefined : compileGlobs(methodList.map((m) => m.toUpperCase()));
  const pathList = readList(cfg['paths'], keyPath(path, 'paths'));
  const paths = pathList === undefined ? undefined : compileGlobs(pathList, { path: true });
  const headers = readList(cfg['headers'], keyPath(path, 'headers'))?.map((h) => h.toLowerCase());

  return (u) => {
    if (methods !== undefined && !methods.test(u.method)) return false;
    if (headers !== undefined) for (const h of headers) if (!u.headers.has(h)) return false;
    if (paths !== undefined) {
      const forms = u.pathForms(broad);
      if (broad ? !forms.some((f) => paths.test(f)) : !forms.every((f) => paths.test(f))) return false;
    }
    return true;
  };
}
