/** Output-column bookkeeping of lineage: `*` entries, renames, set operations. */
import { treeList, unwrapNode } from '../sql/parse-tree.js';
import { type Item, Lin, type OutCol } from './lineage-scope.js';

/** `*` / `t.*` as a whole target-list entry: the qualifier, or undefined for anything else. */
export function starRef(val: unknown): string[] | undefined {
  const u = unwrapNode(val);
  if (u === undefined || u[0] !== 'ColumnRef') return undefined;
  const fields = treeList(u[1]['fields']);
  const last = unwrapNode(fields[fields.length - 1]);
  if (last?.[0] !== 'A_Star') return undefined;
  const parts: string[] = [];
  for (const f of fields.slice(0, -1)) {
    const s = unwrapNode(f);
    if (s?.[0] !== 'String' || typeof s[1]['sval'] !== 'string') return undefined;
    parts.push(s[1]['sval']);
  }
  return parts;
}

export function expandItem(item: Item): OutCol[] {
  switch (item.kind) {
    case 'table':
      return [{ name: undefined, lin: Lin.of(`${item.table}.*`), expands: item.table }];
    case 'rel':
      return [...item.cols];
    case 'func':
      if (item.colnames !== undefined)
        return item.colnames.map((n) => ({ name: n, lin: new Lin().add(item.lin).add(Lin.of(n)) }));
      return [{ name: undefined, lin: new Lin().add(item.lin), expands: item.alias ?? '' }];
    case 'join':
      return item.items.flatMap(expandItem);
  }
}

export function renameCols(cols: readonly OutCol[], names: readonly string[]): OutCol[] {
  let i = 0;
  return cols.map((c) => {
    if (c.expands !== undefined || i >= names.length) return c;
    return { ...c, name: names[i++] };
  });
}

/** UNION/INTERSECT/EXCEPT: position by position; with `*` of unknown width, everything to all. */
export function combineSetOp(left: readonly OutCol[], right: readonly OutCol[]): OutCol[] {
  const aligned =
    left.length === right.length && !left.some((c) => c.expands) && !right.some((c) => c.expands);
  if (aligned)
    return left.map((c, i) => ({ name: c.name, lin: new Lin().add(c.lin).add((right[i] as OutCol).lin) }));
  const all = new Lin();
  for (const c of [...left, ...right]) all.add(c.lin);
  return left.map((c) => ({ ...c, lin: new Lin().add(c.lin).add(all) }));
}
