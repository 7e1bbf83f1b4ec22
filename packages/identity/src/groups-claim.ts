export const DEFAULT_GROUPS_CLAIM = 'groups';

/**
 * Reads the groups of a verified token from `claim`.
 *
 * The claim is looked up as an exact key first, because URL-shaped claim names
 * (`https://example.com/groups`) contain dots; only when no such key exists is it read as a dotted
 * path (`realm_access.roles`). An array of strings or a single space/comma separated string is
 * accepted; a missing claim or any other shape yields no groups, so that a token can never gain a
 * group through a value the IdP did not mean as one.
 */
export function extractGroups(claims: Readonly<Record<string, unknown>>, claim: string): string[] {
  const value = Object.hasOwn(claims, claim) ? claims[claim] : readPath(claims, claim);
  if (typeof value === 'string') return unique(value.split(/[\s,]+/));
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return unique(value);
  return [];
}

function readPath(root: Readonly<Record<string, unknown>>, path: string): unknown {
  if (!path.includes('.')) return undefined;
  let node: unknown = root;
  for (const key of path.split('.')) {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined;
    // Own properties only: `__proto__` or `constructor` in a path must not reach Object.prototype.
    if (!Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function unique(items: readonly string[]): string[] {
  return [...new Set(items.filter((item) => item.length > 0))];
}
