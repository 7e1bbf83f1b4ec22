/**
 * Lineage of expressions: every column reference anywhere in the expression, through casts,
 * operators, function arguments, aggregates, CASE, row and array constructors, and the outputs of
 * the subqueries in it. Left out, because they do not flow into the value: `count(…)`'s argument,
 * aggregate ORDER BY and FILTER, window definitions, EXISTS subqueries.
 */
import {
  constantString,
  isTreeObject,
  stringList,
  type TreeObject,
  treeList,
  unwrapNode,
} from '../sql/parse-tree.js';
import { columnOf, findItem, Lin, type OutCol, resolveName, type Scope, wholeRow } from './lineage-scope.js';

/** What an expression needs from the statement analyser around it. */
export interface SubQuery {
  /** Analyses a statement found inside an expression (a SubLink's query) in `scope`. */
  subquery(stmt: unknown, scope: Scope): OutCol[];
  /** A literal's value decided the lineage (a JSON key): texts differing only in literals may differ. */
  readLiteral(): void;
}

/** Sources of an expression; an explicit stack, since operator chains nest thousands deep. */
export function expressionLineage(root: unknown, scope: Scope, sub: SubQuery): Lin {
  const out = new Lin();
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (Array.isArray(value)) {
      for (const v of value) if (typeof v === 'object' && v !== null) stack.push(v);
      continue;
    }
    if (!isTreeObject(value)) continue;
    const node = unwrapNode(value);
    if (node === undefined) {
      for (const key in value) {
        const child = value[key];
        if (typeof child === 'object' && child !== null) stack.push(child);
      }
      continue;
    }
    const [type, body] = node;
    switch (type) {
      case 'ColumnRef':
        out.add(columnRef(body, scope));
        break;
      case 'A_Indirection':
        out.add(indirection(body, scope, sub));
        break;
      case 'A_Expr': {
        const narrowed = jsonFieldOfRow(body, scope, sub);
        if (narrowed !== undefined) out.add(narrowed);
        else stack.push(body['lexpr'], body['rexpr']);
        break;
      }
      case 'FuncCall': {
        const name = stringList(body['funcname']);
        // count() tells how many, never what; ORDER BY, FILTER and OVER only select and order.
        if (name?.[name.length - 1]?.toLowerCase() !== 'count') stack.push(body['args']);
        break;
      }
      case 'SubLink':
        if (body['subLinkType'] !== 'EXISTS_SUBLINK') {
          for (const col of sub.subquery(body['subselect'], scope)) out.add(col.lin);
        }
        stack.push(body['testexpr']);
        break;
      case 'SelectStmt':
        for (const col of sub.subquery({ SelectStmt: body }, scope)) out.add(col.lin);
        break;
      default:
        stack.push(body);
    }
  }
  return out;
}

function columnRef(body: TreeObject, scope: Scope): Lin {
  const parts: string[] = [];
  let star = false;
  for (const f of treeList(body['fields'])) {
    const u = unwrapNode(f);
    if (u?.[0] === 'A_Star') star = true;
    else if (u?.[0] === 'String' && typeof u[1]['sval'] === 'string') parts.push(u[1]['sval']);
  }
  if (star) {
    // Inside an expression `t.*` (and `*`) is the whole row.
    if (parts.length === 0) {
      const l = new Lin();
      for (const item of scope.items) l.add(wholeRow(item));
      return l;
    }
    const item = findItem(scope, parts);
    return item === undefined ? Lin.of(`${parts.join('.')}.*`) : wholeRow(item);
  }
  const column = parts[parts.length - 1];
  if (column === undefined) return new Lin();
  if (parts.length === 1) return resolveName(scope, column);
  const item = findItem(scope, parts.slice(0, -1));
  if (item !== undefined)
    return columnOf(item, column) ?? Lin.of(`${parts.slice(0, -1).join('.')}.${column}`);
  // `a.b` where `a` is no FROM item: a field `b` of a composite column `a` (or an outer table).
  return Lin.of(parts.join('.')).add(resolveName(scope, parts[0] as string));
}

/** `(u).email`: a field of a whole row is that column; other indirections keep the base. */
function indirection(body: TreeObject, scope: Scope, sub: SubQuery): Lin {
  const base = expressionLineage(body['arg'], scope, sub);
  const first = unwrapNode(treeList(body['indirection'])[0]);
  const out =
    first?.[0] === 'String' && typeof first[1]['sval'] === 'string' ? narrow(base, first[1]['sval']) : base;
  for (const ind of treeList(body['indirection'])) {
    const u = unwrapNode(ind);
    if (u?.[0] === 'A_Indices') out.add(expressionLineage(u[1], scope, sub));
  }
  return out;
}

/** `row_to_json(u)->>'email'`, `to_jsonb(t)->'e'`: the named column of the row. */
function jsonFieldOfRow(body: TreeObject, scope: Scope, sub: SubQuery): Lin | undefined {
  const op = stringList(body['name']);
  if (op?.length !== 1 || (op[0] !== '->' && op[0] !== '->>')) return undefined;
  const key = constantString(body['rexpr']);
  if (key === undefined) return undefined;
  sub.readLiteral();
  const left = expressionLineage(body['lexpr'], scope, sub);
  return narrow(left, key);
}

/** The sources of field `name` of a value: only whole rows and row fields are narrowed. */
function narrow(base: Lin, name: string): Lin {
  const out = new Lin();
  for (const s of base.sources) out.sources.add(s.endsWith('.*') ? `${s.slice(0, -1)}${name}` : s);
  const field = base.fields?.get(name);
  if (field !== undefined) for (const s of field) out.sources.add(s);
  else if (base.fields !== undefined)
    for (const v of base.fields.values()) for (const s of v) out.sources.add(s);
  return out;
}
