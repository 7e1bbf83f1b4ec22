/**
 * Path forms for matching. A client controls the spelling of a path (`//admin`, `/a/../admin`,
 * `/%61dmin`, `/admin/`) and the upstream may resolve any of them to the same resource, so rules
 * are tested against normalised forms: a deny rule matches if ANY form matches, an allow rule only
 * if EVERY form does.
 */

/** Resolves `.`/`..` and empty segments; the result is absolute (`..` stops at the root). */
export function normalizePath(raw: string, keepTrailingSlash = true): string {
  const segments: string[] = [];
  const parts = raw.split('/');
  for (const part of parts) {
    if (part === '' || part === '.') continue;
    if (part === '..') segments.pop();
    else segments.push(part);
  }
  const trailing = keepTrailingSlash && segments.length > 0 && /\/\.{0,2}$/.test(raw);
  return `/${segments.join('/')}${trailing ? '/' : ''}`;
}

function stripQuery(raw: string): string {
  const q = raw.search(/[?#]/);
  return q === -1 ? raw : raw.slice(0, q);
}

function percentDecode(raw: string): string {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    // Invalid UTF-8 sequences: decode what is ASCII, which is what matters for matching.
    return raw.replace(/%([0-7][0-9a-fA-F])/g, (_, hex: string) =>
      String.fromCharCode(Number.parseInt(hex, 16)),
    );
  }
}

/** Forms of an HTTP request path to test. `broad` adds forms a lenient upstream might also accept. */
export function httpPathForms(raw: string, broad: boolean): string[] {
  const path = stripQuery(raw);
  const forms = new Set<string>([normalizePath(path), normalizePath(percentDecode(path))]);
  if (broad) {
    for (const f of [...forms]) {
      forms.add(normalizePath(f.replaceAll('\\', '/'), false));
      forms.add(normalizePath(f, false));
    }
  }
  return [...forms];
}

/** Forms of a file path (SFTP). Relative paths are tested as if rooted, which `..` cannot escape. */
export function filePathForms(raw: string, broad: boolean): string[] {
  const forms = new Set<string>([normalizePath(raw)]);
  if (broad) forms.add(normalizePath(raw, false));
  return [...forms];
}
