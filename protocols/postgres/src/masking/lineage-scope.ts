/**
 * Name resolution for lineage: what a column reference in a statement can denote, given the FROM
 * items in scope (tables, subqueries, CTEs, functions, joins) and the enclosing queries. Without
 * the catalog a table's columns are unknown, so resolution over-approximates where PostgreSQL
 * would pick one candidate: more sources can only mean more masking.
 */

/** Sources of one value: `table.column`, bare `column`, `table.*`; and per-field sources of rows. */
export class Lin {
  readonly sources = new Set<string>();
  fields: Map<string, Set<string>> | undefined;

  static of(...sources: string[]): Lin {
    const l = new Lin();
    for (const s of sources) l.sources.add(s);
    return l;
  }

  add(other: Lin): this {
    for (const s of other.sources) this.sources.add(s);
    if (other.fields !== undefined) {
      this.fields ??= new Map();
      for (const [k, v] of other.fields) {
        const mine = this.fields.get(k) ?? new Set<string>();
        this.fields.set(k, mine);
        for (const s of v) mine.add(s);
      }
    }
    return this;
  }

  /** Every source, the fields' included: what a value that is not JSON derives from. */
  flat(): Set<string> {
    const all = new Set(this.sources);
    if (this.fields !== undefined) for (const v of this.fields.values()) for (const s of v) all.add(s);
    return all;
  }

  get size(): number {
    return this.sources.size + (this.fields?.size ?? 0);
  }
}

/** One output column of a (sub)query. */
export interface OutCol {
  readonly name: string | undefined;
  readonly lin: Lin;
  /** A `*` over a table or function whose columns are unknown (see ColumnLineage.expands). */
  readonly expands?: string;
}

export type Item =
  | {
      readonly kind: 'table';
      readonly alias: string;
      readonly table: string;
      /** `FROM users AS u(a, b)`: columns renamed positionally — which is which is unknown. */
      readonly renamed?: readonly string[];
      /** Values written into columns by this statement (INSERT … SELECT, UPDATE SET) for RETURNING. */
      readonly written?: ReadonlyMap<string, Lin>;
    }
  | { readonly kind: 'rel'; readonly alias: string | undefined; readonly cols: readonly OutCol[] }
  | {
      readonly kind: 'func';
      readonly alias: string | undefined;
      readonly colnames: readonly string[] | undefined;
      readonly lin: Lin;
    }
  | { readonly kind: 'join'; readonly alias: string; readonly items: readonly Item[] };

export interface Scope {
  readonly items: Item[];
  readonly parent: Scope | undefined;
  /** CTEs visible here, by name. */
  readonly ctes: ReadonlyMap<string, readonly OutCol[]>;
}

export function childScope(parent: Scope | undefined, ctes?: ReadonlyMap<string, readonly OutCol[]>): Scope {
  return { items: [], parent, ctes: ctes ?? parent?.ctes ?? new Map() };
}

/** The whole row of a FROM item as a value. */
export function wholeRow(item: Item): Lin {
  switch (item.kind) {
    case 'table':
      return Lin.of(`${item.table}.*`);
    case 'func':
      return new Lin().add(item.lin);
    case 'join': {
      const l = new Lin();
      for (const i of item.items) l.add(wholeRow(i));
      return l;
    }
    case 'rel': {
      const l = new Lin();
      for (const c of item.cols) {
        if (c.expands !== undefined || c.name === undefined) {
          l.add(c.lin);
          continue;
        }
        l.fields ??= new Map();
        const f = l.fields.get(c.name) ?? new Set<string>();
        l.fields.set(c.name, f);
        for (const s of c.lin.flat()) f.add(s);
      }
      return l;
    }
  }
}

/** The FROM item called `name` (an alias, or a table's name), innermost level first. */
export function findItem(scope: Scope | undefined, parts: readonly string[]): Item | undefined {
  const name = parts[parts.length - 1];
  for (let s = scope; s !== undefined; s = s.parent) {
    for (const item of s.items) {
      if (item.alias !== name) continue;
      if (parts.length > 1 && (item.kind !== 'table' || !item.table.endsWith(parts.join('.')))) continue;
      return item;
    }
  }
  return undefined;
}

/** Column `column` of one FROM item; undefined when the item certainly has no such column. */
export function columnOf(item: Item, column: string): Lin | undefined {
  switch (item.kind) {
    case 'table': {
      const l = new Lin();
      const written = item.written?.get(column) ?? item.written?.get('*');
      if (written !== undefined) l.add(written);
      // Renamed columns: the original name is unknown, so the value may be any column.
      if (item.renamed?.includes(column)) l.sources.add(`${item.table}.*`);
      else l.sources.add(`${item.table}.${column}`);
      return l;
    }
    case 'rel': {
      const named = item.cols.filter((c) => c.name === column);
      // Otherwise a column hidden in a `*` expansion of the subquery.
      const from = named.length > 0 ? named : item.cols.filter((c) => c.expands !== undefined);
      if (from.length === 0) return undefined;
      const l = new Lin();
      for (const c of from) {
        l.add(c.name === column || c.expands === '' ? c.lin : Lin.of(`${c.expands}.${column}`));
      }
      return l;
    }
    case 'func':
      if (item.colnames !== undefined && !item.colnames.includes(column)) return undefined;
      return new Lin().add(item.lin).add(Lin.of(column));
    case 'join': {
      const found = item.items.map((i) => columnOf(i, column)).filter((c) => c !== undefined);
      if (found.length === 0) return undefined;
      const l = new Lin();
      for (const c of found) l.add(c);
      return l;
    }
  }
}

/**
 * An unqualified name: a column of some FROM item at the innermost level that has one, or of an
 * enclosing query; tables (columns unknown) are candidates at every level. Also, when a FROM item
 * carries that name, its whole row (`SELECT u FROM users u`).
 */
export function resolveName(scope: Scope | undefined, name: string): Lin {
  const out = new Lin();
  for (let s = scope; s !== undefined; s = s.parent) {
    let certain = false;
    for (const item of s.items) {
      if (item.kind === 'table') {
        out.add(columnOf(item, name) as Lin);
        continue;
      }
      const c = columnOf(item, name);
      if (c !== undefined) {
        out.add(c);
        certain = item.kind === 'rel' || (item.kind === 'func' && item.colnames !== undefined);
      }
    }
    if (certain) break;
  }
  const row = findItem(scope, [name]);
  if (row !== undefined) out.add(wholeRow(row));
  if (out.size === 0) out.sources.add(name);
  return out;
}
