/**
 * Reading libpg-query's JSON parse tree. A field typed `Node *` holds a wrapper object with one key,
 * the node type (`{ "RangeVar": { … } }`); a field typed with a concrete struct holds the struct
 * bare (`InsertStmt.relation` is a RangeVar without wrapper). Everything here reads defensively: a
 * tree of an unexpected shape yields nothing rather than a throw.
 */

export type TreeObject = Readonly<Record<string, unknown>>;

export function isTreeObject(value: unknown): value is TreeObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asTreeObject(value: unknown): TreeObject | undefined {
  return isTreeObject(value) ? value : undefined;
}

export function treeList(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

/** `{ "SelectStmt": body }` → `['SelectStmt', body]`; undefined for anything else. */
export function unwrapNode(value: unknown): readonly [string, TreeObject] | undefined {
  if (!isTreeObject(value)) return undefined;
  let found: readonly [string, TreeObject] | undefined;
  for (const key in value) {
    if (found !== undefined) return undefined;
    const body = value[key];
    const first = key.charCodeAt(0);
    if (first < 65 || first > 90 || !isTreeObject(body)) return undefined;
    found = [key, body];
  }
  return found;
}

/** The `sval`s of a list of String nodes (a qualified name), or undefined if it is not one. */
export function stringList(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const out: string[] = [];
  for (const item of value) {
    const node = unwrapNode(item);
    if (node === undefined || node[0] !== 'String') return undefined;
    const s = node[1]['sval'];
    out.push(typeof s === 'string' ? s : '');
  }
  return out;
}

/** The value of a string constant, also under a cast (`'role'::text`); undefined otherwise. */
export function constantString(value: unknown): string | undefined {
  const node = unwrapNode(value);
  if (node === undefined) return undefined;
  const [type, body] = node;
  if (type === 'TypeCast') return constantString(body['arg']);
  if (type === 'String') return typeof body['sval'] === 'string' ? body['sval'] : undefined;
  if (type !== 'A_Const') return undefined;
  const sval = asTreeObject(body['sval']);
  return typeof sval?.['sval'] === 'string' ? sval['sval'] : undefined;
}

/**
 * A name as the policy engine reads it back (`splitSqlName` in @gatehouse/policy): parts joined by
 * dots, and quoted only where a part would otherwise split or trim differently.
 */
export function qualifiedName(parts: readonly string[]): string {
  return parts.map(quotePart).join('.');
}

function quotePart(part: string): string {
  if (part !== '' && !/[."]/.test(part) && part.trim() === part) return part;
  return `"${part.replace(/"/g, '""')}"`;
}

/** `catalog.schema.rel` of a RangeVar body. */
export function rangeVarName(rv: TreeObject): string | undefined {
  const rel = rv['relname'];
  if (typeof rel !== 'string') return undefined;
  const parts: string[] = [];
  if (typeof rv['catalogname'] === 'string') parts.push(rv['catalogname']);
  if (typeof rv['schemaname'] === 'string') parts.push(rv['schemaname']);
  parts.push(rel);
  return qualifiedName(parts);
}
