/**
 * SQL text → lineage of each statement's result columns, from PostgreSQL's own parse tree (the
 * parser loaded by the SQL analyzer; nothing is parsed by hand).
 *
 * What counts as "computed from": every column reference anywhere in the output expression —
 * casts, operators, function arguments, aggregates, CASE conditions, row and array constructors —
 * and the outputs of subqueries in it. Left out, because they do not flow into the value:
 * `count(…)`'s argument, aggregate ORDER BY and FILTER, window definitions, EXISTS subqueries.
 * Whole-row references (`u`, `u.*` inside an expression) yield `table.*`; for subqueries and CTEs
 * their columns' lineage by name (`fields`). `(u).email` and `row_to_json(u)->>'email'` narrow a
 * whole row to the named column.
 *
 * Views and functions are opaque without the catalog: their columns are named as the view or
 * function names them, and the result masker's column-name rule and detectors cover them.
 */
import { LruCache } from '../sql/lru-cache.js';
import {
  isTreeObject,
  rangeVarName,
  stringList,
  type TreeObject,
  treeList,
  unwrapNode,
} from '../sql/parse-tree.js';
import { pgParser } from '../sql/pg-parser.js';
import { figureColname } from './column-names.js';
import { copyFormat } from './copy-options.js';
import { combineSetOp, expandItem, renameCols, starRef } from './lineage-columns.js';
import { expressionLineage } from './lineage-expressions.js';
import { childScope, findItem, type Item, Lin, type OutCol, type Scope } from './lineage-scope.js';
import type { ColumnLineage, StatementLineage } from './lineage-types.js';

/** Statement nesting (subqueries) beyond this gives up: the result is then masked whole. */
const MAX_DEPTH = 300;
/** Fixed-point passes over a recursive CTE; each can only add sources. */
const RECURSIVE_PASSES = 8;

class TooDeep extends Error {}

/** Lineage of the first statement of `sql`; undefined when the text does not parse. */
export function analyzeLineage(sql: string): StatementLineage | undefined {
  return analyzeLineageByStatement(sql)?.[0];
}

/**
 * Lineage of every statement of a (simple-protocol, possibly multi-statement) text, in order:
 * each statement's result ends with its own CommandComplete. Undefined when the text does not
 * parse or the parser is not loaded (`initSqlAnalyzer()`); a relay should then mask every column
 * whole (OPAQUE_LINEAGE), since policy only forwards texts that parse.
 */
export function analyzeLineageByStatement(sql: string): readonly StatementLineage[] | undefined {
  const parser = pgParser();
  if (parser === undefined || typeof sql !== 'string') return undefined;
  const raw = parser.parse(sql);
  if (!raw.ok) return undefined;
  return lineageFromTree(raw.tree);
}

/** For callers that already hold libpg-query's tree of the text (`{ stmts: [...] }`). */
export function lineageFromTree(tree: unknown): StatementLineage[] {
  return readLineage(tree).statements;
}

interface TreeLineage {
  readonly statements: StatementLineage[];
  /** A literal's value was read (a JSON key, COPY options): texts differing only in literals may differ. */
  readonly literalDependent: boolean;
}

function readLineage(tree: unknown): TreeLineage {
  const stmts = isTreeObject(tree) ? treeList(tree['stmts']) : [];
  let literalDependent = false;
  const statements = stmts.map((raw): StatementLineage => {
    const stmt = isTreeObject(raw) ? raw['stmt'] : undefined;
    const analyzer = new Analyzer();
    try {
      return analyzer.statement(stmt);
    } catch (err) {
      if (err instanceof TooDeep || err instanceof RangeError) return { columns: undefined, opaque: true };
      throw err;
    } finally {
      literalDependent ||= analyzer.literalDependent;
    }
  });
  return { statements, literalDependent };
}

export interface LineageAnalyzer {
  /**
   * `shape` is the SQL analyzer's shape of the text (`SqlAnalysis.shape`), when it has one: the
   * lineage is then shared with the text's other literal values unless a literal decided it.
   */
  analyze(sql: string, shape?: string): readonly StatementLineage[] | undefined;
}

/**
 * Caches lineage by exact text (the same statements come back again and again) and by shape (the
 * same statement with other values: pgbench's `… WHERE aid = 48213` is parsed once, not once per
 * value).
 */
export function createLineageAnalyzer(
  options: { cacheSize?: number; maxCachedTextLength?: number } = {},
): LineageAnalyzer {
  const size = options.cacheSize ?? 1000;
  const exact = new LruCache<string, readonly StatementLineage[]>(size);
  const shapes = new LruCache<string, readonly StatementLineage[]>(size);
  const maxLength = options.maxCachedTextLength ?? 16 * 1024;
  return {
    analyze(sql, shape) {
      const hit = exact.get(sql) ?? (shape === undefined ? undefined : shapes.get(shape));
      if (hit !== undefined) return hit;
      const parser = pgParser();
      if (parser === undefined || typeof sql !== 'string') return undefined;
      const raw = parser.parse(sql);
      if (!raw.ok) return undefined;
      const { statements, literalDependent } = readLineage(raw.tree);
      if (sql.length > maxLength) return statements;
      if (shape !== undefined && !literalDependent) shapes.set(shape, statements);
      else exact.set(sql, statements);
      return statements;
    },
  };
}

class Analyzer {
  private depth = 0;
  /** See TreeLineage.literalDependent. */
  literalDependent = false;

  statement(stmt: unknown): StatementLineage {
    const node = unwrapNode(stmt);
    if (node === undefined) return { columns: undefined, opaque: false };
    const [type, body] = node;
    const none = (): StatementLineage => ({ columns: undefined, opaque: false });
    switch (type) {
      case 'SelectStmt':
        // SELECT … INTO creates a table and returns no rows.
        if (body['intoClause'] !== undefined) return none();
        return { columns: this.publish(this.select(body, undefined)), opaque: false };
      case 'InsertStmt':
      case 'UpdateStmt':
      case 'DeleteStmt':
      case 'MergeStmt': {
        const cols = this.dml(type, body, undefined);
        return cols === undefined ? none() : { columns: this.publish(cols), opaque: false };
      }
      case 'CopyStmt':
        return this.copy(body);
      case 'DeclareCursorStmt':
      case 'PrepareStmt': {
        const name = type === 'PrepareStmt' ? body['name'] : body['portalname'];
        const inner = this.statement(body['query']);
        if (typeof name !== 'string') return inner;
        return { ...inner, declares: { kind: type === 'PrepareStmt' ? 'prepared' : 'cursor', name } };
      }
      case 'FetchStmt':
      case 'ExecuteStmt': {
        const name = type === 'ExecuteStmt' ? body['name'] : body['portalname'];
        if (typeof name !== 'string') return none();
        return {
          columns: undefined,
          opaque: false,
          uses: { kind: type === 'ExecuteStmt' ? 'prepared' : 'cursor', name },
        };
      }
      default:
        return none();
    }
  }

  private publish(cols: readonly OutCol[]): ColumnLineage[] {
    return cols.map((c) => {
      const fields =
        c.lin.fields === undefined
          ? undefined
          : Object.fromEntries([...c.lin.fields].map(([k, v]) => [k, Object.freeze([...v])]));
      return Object.freeze({
        name: c.name,
        sources: Object.freeze([...c.lin.sources]),
        ...(fields === undefined ? {} : { fields: Object.freeze(fields) }),
        ...(c.expands === undefined ? {} : { expands: c.expands }),
      });
    });
  }

  // ---- queries ----

  private enter(): void {
    if (++this.depth > MAX_DEPTH) throw new TooDeep();
  }

  /** Output columns of a SELECT (bare SelectStmt body) seen from `outer`. */
  select(body: TreeObject, outer: Scope | undefined): OutCol[] {
    this.enter();
    try {
      const scope = childScope(outer, this.withClause(body['withClause'], outer));
      const op = body['op'];
      if (typeof op === 'string' && op !== 'SETOP_NONE') {
        const left = isTreeObject(body['larg']) ? this.select(body['larg'], scope) : [];
        const right = isTreeObject(body['rarg']) ? this.select(body['rarg'], scope) : [];
        return combineSetOp(left, right);
      }
      const values = treeList(body['valuesLists']);
      if (values.length > 0) return this.values(values, scope);
      for (const item of treeList(body['fromClause'])) this.fromItem(item, scope, scope.items);
      return this.targetList(body['targetList'], scope);
    } finally {
      this.depth--;
    }
  }

  private values(rows: readonly unknown[], scope: Scope): OutCol[] {
    const cols: OutCol[] = [];
    for (const row of rows) {
      const items = treeList(unwrapNode(row)?.[1]['items']);
      items.forEach((expr, i) => {
        let col = cols[i];
        if (col === undefined) cols[i] = col = { name: `column${i + 1}`, lin: new Lin() };
        col.lin.add(this.expr(expr, scope));
      });
    }
    return cols;
  }

  /** CTEs of a WITH clause, each seeing the ones before it (all of them when RECURSIVE). */
  private withClause(
    withClause: unknown,
    outer: Scope | undefined,
  ): Map<string, readonly OutCol[]> | undefined {
    if (!isTreeObject(withClause)) return undefined;
    const ctes = new Map(outer?.ctes ?? []);
    const recursive = withClause['recursive'] === true;
    for (const item of treeList(withClause['ctes'])) {
      const cte = unwrapNode(item);
      if (cte === undefined || cte[0] !== 'CommonTableExpr') continue;
      const name = cte[1]['ctename'];
      if (typeof name !== 'string') continue;
      const aliases = stringList(cte[1]['aliascolnames']);
      const run = (): readonly OutCol[] => {
        const cols = this.subStatement(cte[1]['ctequery'], childScope(outer, ctes));
        return aliases === undefined ? cols : renameCols(cols, aliases);
      };
      if (!recursive) {
        ctes.set(name, run());
        continue;
      }
      ctes.set(name, []);
      let before = -1;
      for (let pass = 0; pass < RECURSIVE_PASSES; pass++) {
        const cols = run();
        ctes.set(name, cols);
        const size = cols.reduce((n, c) => n + c.lin.size, 0);
        if (size === before) break;
        before = size;
      }
    }
    return ctes;
  }

  /** A statement used as a query: SELECT, or DML with RETURNING (in a CTE). */
  private subStatement(stmt: unknown, scope: Scope): OutCol[] {
    const node = unwrapNode(stmt);
    if (node === undefined) return [];
    if (node[0] === 'SelectStmt') return this.select(node[1], scope);
    return this.dml(node[0], node[1], scope) ?? [];
  }

  // ---- FROM ----

  private fromItem(node: unknown, scope: Scope, into: Item[]): void {
    const u = unwrapNode(node);
    if (u === undefined) return;
    const [type, body] = u;
    const alias = isTreeObject(body['alias']) ? body['alias'] : undefined;
    const aliasName = typeof alias?.['aliasname'] === 'string' ? alias['aliasname'] : undefined;
    const colnames = stringList(alias?.['colnames']);
    switch (type) {
      case 'RangeVar': {
        const rel = body['relname'];
        if (typeof rel !== 'string') return;
        const qualified = body['schemaname'] !== undefined || body['catalogname'] !== undefined;
        const cte = qualified ? undefined : scope.ctes.get(rel);
        if (cte !== undefined) {
          into.push({
            kind: 'rel',
            alias: aliasName ?? rel,
            cols: colnames ? renameCols(cte, colnames) : cte,
          });
          return;
        }
        const table = rangeVarName(body) ?? rel;
        into.push({
          kind: 'table',
          alias: aliasName ?? rel,
          table,
          ...(colnames ? { renamed: colnames } : {}),
        });
        return;
      }
      case 'RangeSubselect': {
        const sub = unwrapNode(body['subquery']);
        // LATERAL or not, the subquery may see the items before it: over-approximating is safe.
        const inner: Scope = { items: [...scope.items], parent: scope.parent, ctes: scope.ctes };
        const cols = sub === undefined ? [] : this.subStatement(body['subquery'], inner);
        into.push({ kind: 'rel', alias: aliasName, cols: colnames ? renameCols(cols, colnames) : cols });
        return;
      }
      case 'RangeFunction': {
        const lin = this.expr(body['functions'], scope);
        const defs = treeList(body['coldeflist'])
          .map((d) => unwrapNode(d)?.[1]['colname'])
          .filter((n): n is string => typeof n === 'string');
        into.push({
          kind: 'func',
          alias: aliasName,
          colnames: colnames ?? (defs.length > 0 ? defs : undefined),
          lin,
        });
        return;
      }
      case 'RangeTableSample':
        this.fromItem(body['relation'], scope, into);
        return;
      case 'JoinExpr': {
        const items: Item[] = [];
        this.fromItem(body['larg'], scope, items);
        this.fromItem(body['rarg'], scope, items);
        if (aliasName === undefined) into.push(...items);
        else into.push({ kind: 'join', alias: aliasName, items });
        return;
      }
      default: {
        // XMLTABLE, JSON_TABLE and what may come: every reference inside feeds every column.
        const { alias: _alias, ...rest } = body;
        into.push({ kind: 'func', alias: aliasName, colnames: undefined, lin: this.expr(rest, scope) });
      }
    }
  }

  // ---- target lists ----

  private targetList(list: unknown, scope: Scope): OutCol[] {
    const out: OutCol[] = [];
    for (const entry of treeList(list)) {
      const target = unwrapNode(entry);
      if (target === undefined || target[0] !== 'ResTarget') continue;
      const val = target[1]['val'];
      const star = starRef(val);
      if (star !== undefined) {
        out.push(...this.expandStar(star, scope));
        continue;
      }
      const alias = target[1]['name'];
      out.push({ name: typeof alias === 'string' ? alias : figureColname(val), lin: this.expr(val, scope) });
    }
    return out;
  }

  /** `*` or `t.*` in a target list: the columns of those FROM items. */
  private expandStar(qualifier: readonly string[], scope: Scope): OutCol[] {
    if (qualifier.length === 0) return scope.items.flatMap((i) => expandItem(i));
    const item = findItem(scope, qualifier);
    if (item === undefined)
      return [{ name: undefined, lin: Lin.of(`${qualifier.join('.')}.*`), expands: qualifier.join('.') }];
    return expandItem(item);
  }

  // ---- DML with RETURNING ----

  private dml(type: string, body: TreeObject, outer: Scope | undefined): OutCol[] | undefined {
    const returning = isTreeObject(body['returningClause'])
      ? body['returningClause']['exprs']
      : body['returningList'];
    if (treeList(returning).length === 0) return undefined;
    this.enter();
    try {
      const ctes = this.withClause(body['withClause'], outer);
      const rv = isTreeObject(body['relation']) ? body['relation'] : undefined;
      const rel = typeof rv?.['relname'] === 'string' ? rv['relname'] : undefined;
      if (rv === undefined || rel === undefined) return undefined;
      const alias =
        isTreeObject(rv['alias']) && typeof rv['alias']['aliasname'] === 'string'
          ? rv['alias']['aliasname']
          : rel;
      const table = rangeVarName(rv) ?? rel;
      const written = new Map<string, Lin>();
      // PostgreSQL 18: RETURNING old.* / new.* name the target's rows before and after; a level of
      // their own keeps them out of `RETURNING *`.
      const target: Item = { kind: 'table', alias, table, written };
      const rows: Scope = {
        items: [
          { ...target, alias: 'old' },
          { ...target, alias: 'new' },
        ],
        parent: outer,
        ctes: ctes ?? outer?.ctes ?? new Map(),
      };
      const scope = childScope(rows, ctes);
      scope.items.push(target);
      for (const key of ['fromClause', 'usingClause']) {
        for (const item of treeList(body[key])) this.fromItem(item, scope, scope.items);
      }
      if (body['sourceRelation'] !== undefined) this.fromItem(body['sourceRelation'], scope, scope.items);
      if (type === 'InsertStmt') this.insertedValues(body, scope, written);
      if (type === 'UpdateStmt') {
        for (const entry of treeList(body['targetList'])) {
          const t = unwrapNode(entry);
          if (t === undefined || typeof t[1]['name'] !== 'string') continue;
          written.set(t[1]['name'], this.expr(t[1]['val'], scope));
        }
      }
      return this.targetList(returning, scope);
    } finally {
      this.depth--;
    }
  }

  /** INSERT … (cols) SELECT/VALUES: which source each target column gets, for RETURNING. */
  private insertedValues(body: TreeObject, scope: Scope, written: Map<string, Lin>): void {
    const select = unwrapNode(body['selectStmt']);
    if (select === undefined) return;
    const sourceCols = this.subStatement(body['selectStmt'], scope);
    const names = treeList(body['cols']).map((c) => unwrapNode(c)?.[1]['name']);
    sourceCols.forEach((col, i) => {
      const name = names[i];
      if (typeof name === 'string') written.set(name, col.lin);
      // Without a column list the target columns are the table's, in order: unknown names.
    });
    if (names.length === 0 && sourceCols.length > 0) {
      const all = new Lin();
      for (const c of sourceCols) all.add(c.lin);
      written.set('*', all);
    }
  }

  // ---- COPY ----

  private copy(body: TreeObject): StatementLineage {
    const toClient =
      body['is_from'] !== true && body['filename'] === undefined && body['is_program'] !== true;
    const format = copyFormat(body['options']);
    // DELIMITER ';', NULL 'x', QUOTE…: the format is read from literals.
    if (treeList(body['options']).length > 0) this.literalDependent = true;
    if (!toClient) return { columns: undefined, opaque: false };
    if (body['query'] !== undefined) {
      const cols = this.subStatement(body['query'], childScope(undefined));
      return { columns: this.publish(cols), opaque: false, copy: format };
    }
    const rv = isTreeObject(body['relation']) ? body['relation'] : undefined;
    const table = rv === undefined ? undefined : rangeVarName(rv);
    if (table === undefined) return { columns: undefined, opaque: false, copy: format };
    const attlist = stringList(body['attlist']);
    const cols: OutCol[] =
      attlist === undefined || attlist.length === 0
        ? [{ name: undefined, lin: Lin.of(`${table}.*`), expands: table }]
        : attlist.map((name) => ({ name, lin: Lin.of(`${table}.${name}`) }));
    return { columns: this.publish(cols), opaque: false, copy: { ...format, table } };
  }

  /** Sources of an expression (lineage-expressions.ts), subqueries analysed here. */
  expr(root: unknown, scope: Scope): Lin {
    return expressionLineage(root, scope, this);
  }

  /** For expressionLineage: a statement inside an expression. */
  subquery(stmt: unknown, scope: Scope): OutCol[] {
    return this.subStatement(stmt, scope);
  }

  readLiteral(): void {
    this.literalDependent = true;
  }
}
