/**
 * Walks a statement's parse tree and collects the tables and functions it references. The walk is
 * generic — every field of every node is visited, so a new node type cannot hide a table — with
 * special handling only where meaning depends on position: CTE names shadow tables inside their
 * WITH only, FROM items may name a CTE while DML targets and `SELECT … INTO` never do, and
 * statements that run (data-modifying CTEs) are handed back to the caller to be judged on their own.
 *
 * Expression chains can be thousands of levels deep (`a || b || …`), so the generic walk keeps an
 * explicit stack; only statement nesting (subqueries, joins) recurses.
 */
import {
  isTreeObject,
  qualifiedName,
  rangeVarName,
  stringList,
  type TreeObject,
  treeList,
  unwrapNode,
} from './parse-tree.js';

/** Names of CTEs visible at a point of the tree. */
export type CteScope = ReadonlySet<string>;
export const NO_CTES: CteScope = new Set();

export const DML_STATEMENTS: ReadonlySet<string> = new Set([
  'InsertStmt',
  'UpdateStmt',
  'DeleteStmt',
  'MergeStmt',
]);

/** What one statement references; locations order the names as they appear in the text. */
export class Collector {
  readonly tables = new Map<string, number>();
  readonly functions = new Map<string, number>();
  /** Lower-cased unqualified function names, for the server-file checks. */
  readonly functionNames = new Set<string>();
  modifiesData = false;
  readsServerFiles = false;
  writesServerFiles = false;
  copyProgram = false;

  addTable(name: string, location: unknown): void {
    addFirst(this.tables, name, location);
  }

  addFunction(parts: readonly string[], location: unknown): void {
    addFirst(this.functions, qualifiedName(parts), location);
    this.functionNames.add((parts[parts.length - 1] ?? '').toLowerCase());
  }

  /** Takes in what a nested statement references; its effects only if it runs with this one. */
  absorb(other: Collector, runs: boolean): void {
    for (const [name, at] of other.tables) addFirst(this.tables, name, at);
    for (const [name, at] of other.functions) addFirst(this.functions, name, at);
    for (const name of other.functionNames) this.functionNames.add(name);
    if (!runs) return;
    this.modifiesData ||= other.modifiesData;
    this.readsServerFiles ||= other.readsServerFiles;
    this.writesServerFiles ||= other.writesServerFiles;
    this.copyProgram ||= other.copyProgram;
  }
}

function addFirst(map: Map<string, number>, name: string, location: unknown): void {
  const at = typeof location === 'number' && location >= 0 ? location : Number.MAX_SAFE_INTEGER;
  const seen = map.get(name);
  if (seen === undefined || at < seen) map.set(name, at);
}

/** Names in order of first appearance in the text; names without a location keep walk order. */
export function orderedNames(map: ReadonlyMap<string, number>): string[] {
  return [...map.entries()].sort((a, b) => a[1] - b[1]).map(([name]) => name);
}

export interface Walk {
  readonly c: Collector;
  /**
   * Judges a statement found inside this one as a nested statement (`runs`: it executes with this
   * one, as a data-modifying CTE does, rather than being stored, as PREPARE's is). Returns false
   * where nothing runs (under plain EXPLAIN); the caller then walks it for names only.
   */
  nest(type: string, body: TreeObject, scope: CteScope, runs: boolean): boolean;
  /** Called for every function call, after it is recorded (role switches, secrets in arguments). */
  onFunction(parts: readonly string[], call: TreeObject): void;
}

export function walkNode(root: unknown, scope: CteScope, w: Walk): void {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (Array.isArray(value)) {
      for (const item of value) if (typeof item === 'object' && item !== null) stack.push(item);
      continue;
    }
    if (!isTreeObject(value)) continue;
    const node = unwrapNode(value);
    if (node === undefined) {
      // A bare struct. RangeVar is the only raw-parse node with a `relname`.
      if (typeof value['relname'] === 'string') {
        recordTable(value, w);
        continue;
      }
      for (const key in value) {
        const child = value[key];
        if (typeof child === 'object' && child !== null) stack.push(child);
      }
      continue;
    }
    const [type, body] = node;
    if (type === 'SelectStmt') walkSelect(body, scope, w);
    else if (DML_STATEMENTS.has(type)) walkDml(body, scope, w);
    else if (type === 'RangeVar') recordTable(body, w);
    else if (type === 'FuncCall') {
      recordFunction(body, w);
      stack.push(body);
    } else stack.push(body);
  }
}

export function recordTable(rv: TreeObject, w: Walk): void {
  const name = rangeVarName(rv);
  if (name !== undefined) w.c.addTable(name, rv['location']);
}

export function recordFunction(call: TreeObject, w: Walk): void {
  const parts = stringList(call['funcname']);
  if (parts === undefined || parts.length === 0) return;
  w.c.addFunction(parts, call['location']);
  w.onFunction(parts, call);
}

export function walkSelect(body: TreeObject, scope: CteScope, w: Walk): void {
  const inner = walkWith(body['withClause'], scope, w);
  for (const key in body) {
    const value = body[key];
    switch (key) {
      case 'withClause':
        break;
      case 'larg':
      case 'rarg':
        if (isTreeObject(value)) walkSelect(value, inner, w);
        break;
      case 'fromClause':
        for (const item of treeList(value)) walkFrom(item, inner, w);
        break;
      case 'intoClause':
        // SELECT … INTO creates a table; its name is never a CTE reference.
        walkNode(value, NO_CTES, w);
        break;
      case 'lockingClause':
        // FOR UPDATE OF names FROM items (often aliases), already counted where they are defined.
        break;
      default:
        walkNode(value, inner, w);
    }
  }
}

/** INSERT, UPDATE, DELETE and MERGE: the target is a table even when a CTE has its name. */
export function walkDml(body: TreeObject, scope: CteScope, w: Walk): void {
  const inner = walkWith(body['withClause'], scope, w);
  for (const key in body) {
    const value = body[key];
    switch (key) {
      case 'withClause':
        break;
      case 'relation':
        if (isTreeObject(value)) recordTable(value, w);
        break;
      case 'fromClause':
      case 'usingClause':
        for (const item of treeList(value)) walkFrom(item, inner, w);
        break;
      case 'sourceRelation':
        walkFrom(value, inner, w);
        break;
      default:
        walkNode(value, inner, w);
    }
  }
}

/**
 * Walks the CTE definitions and returns the scope of the statement body. Without RECURSIVE a CTE
 * sees only the ones defined before it — `WITH users AS (SELECT * FROM users)` reads the real
 * table — with RECURSIVE every CTE of the list is visible in every definition.
 */
export function walkWith(withClause: unknown, scope: CteScope, w: Walk): CteScope {
  if (!isTreeObject(withClause)) return scope;
  const ctes: TreeObject[] = [];
  for (const item of treeList(withClause['ctes'])) {
    const node = unwrapNode(item);
    if (node !== undefined && node[0] === 'CommonTableExpr') ctes.push(node[1]);
  }
  const all = new Set(scope);
  for (const cte of ctes) if (typeof cte['ctename'] === 'string') all.add(cte['ctename']);
  const recursive = withClause['recursive'] === true;
  let visible: Set<string> = recursive ? all : new Set(scope);
  for (const cte of ctes) {
    walkCteQuery(cte['ctequery'], visible, w);
    if (!recursive && typeof cte['ctename'] === 'string') {
      visible = new Set(visible);
      visible.add(cte['ctename']);
    }
  }
  return all;
}

function walkCteQuery(query: unknown, scope: CteScope, w: Walk): void {
  const node = unwrapNode(query);
  if (node !== undefined && DML_STATEMENTS.has(node[0]) && w.nest(node[0], node[1], scope, true)) return;
  walkNode(query, scope, w);
}

/** One FROM item: an unqualified name that a visible CTE defines is that CTE, not a table. */
export function walkFrom(item: unknown, scope: CteScope, w: Walk): void {
  const node = unwrapNode(item);
  if (node === undefined) {
    walkNode(item, scope, w);
    return;
  }
  const [type, body] = node;
  if (type === 'RangeVar') {
    const rel = body['relname'];
    const qualified = body['schemaname'] !== undefined || body['catalogname'] !== undefined;
    if (!qualified && typeof rel === 'string' && scope.has(rel)) return;
    recordTable(body, w);
    return;
  }
  if (type === 'JoinExpr') {
    walkFrom(body['larg'], scope, w);
    walkFrom(body['rarg'], scope, w);
    walkNode(body['quals'], scope, w);
    return;
  }
  walkNode(item, scope, w);
}
