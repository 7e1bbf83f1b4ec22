/**
 * Parse tree → the facts the policy engine judges (`SqlStatementFacts` of @gatehouse/policy).
 *
 * Nested statements — data-modifying CTEs at any depth, the statement of EXPLAIN ANALYZE, of
 * PREPARE, of COPY (query), CREATE RULE actions, the statements of a `BEGIN ATOMIC` function body
 * and role switches made through set_config — are listed flat in the top-level statement's `nested`
 * (each also has its own complete facts), so the engine's nesting limit is never reached by
 * legitimate SQL. Decisions:
 * - EXPLAIN without ANALYZE does not run its statement: the statement's tables and functions are
 *   reported on the `explain` itself, nothing is nested and nothing counts as modifying data.
 * - PREPARE, CREATE RULE and function bodies store statements that run later: they are nested so
 *   that rules judge them now, but their effects (modifiesData…) are not the storing statement's.
 *   A SQL function's string body (`AS 'DELETE …'`, `AS $$…$$`) is parsed like a `BEGIN ATOMIC` one:
 *   PostgreSQL parses it with the same grammar when the function runs. `SET role`/`SET session_
 *   authorization` clauses of CREATE/ALTER FUNCTION switch roles whenever the function runs, so
 *   they are nested as the SET statements they are.
 * - DO blocks are opaque: nothing in them is analysed; `do` is an admin kind in the policy
 *   vocabulary for that reason. A function body the gateway cannot read — any language but SQL, or
 *   a SQL body that does not parse — is a DO block stored for later, and is nested as a `do`.
 * - `SELECT … INTO t` is reported as `create_table_as`, which is what PostgreSQL turns it into.
 */
import {
  SERVER_FILE_READ_FUNCTIONS,
  SERVER_FILE_WRITE_FUNCTIONS,
  type SqlStatementFacts,
  sqlStatementKind,
} from '@gatehouse/policy';
import { copyNamesServerFile } from './copy-target.js';
import {
  isTreeObject,
  qualifiedName,
  stringList,
  type TreeObject,
  treeList,
  unwrapNode,
} from './parse-tree.js';
import type { PgParser } from './pg-parser.js';
import { pgSettingsRoleSwitch, setConfigRoleSwitch } from './role-switch.js';
import {
  type ByteRange,
  functionSecretSites,
  type SecretSite,
  statementSecretSites,
} from './secret-sites.js';
import { lexSql } from './sql-lexer.js';
import {
  Collector,
  type CteScope,
  DML_STATEMENTS,
  NO_CTES,
  orderedNames,
  recordFunction,
  recordTable,
  type Walk,
  walkDml,
  walkNode,
  walkSelect,
} from './tree-walker.js';
import { offsetMap } from './utf8-offsets.js';

export interface TreeFacts {
  readonly statements: readonly SqlStatementFacts[];
  /** Facts were derived from a literal's value; a text differing only in literals may differ. */
  readonly literalDependent: boolean;
  readonly secretSites: readonly SecretSite[];
}

interface State {
  literalDependent: boolean;
  readonly secretSites: SecretSite[];
  statement: ByteRange;
  readonly source: Source;
}

/** The text the tree was parsed from, for the rare fact that the tree does not carry. */
export interface Source {
  readonly text: string;
  readonly parser: PgParser;
}

/** Statements not yet filled in while their own nested statements are being analysed. */
type Sink = (SqlStatementFacts | undefined)[];

/** Relation kinds whose DROP/COMMENT objects name tables or views. */
const TABLE_OBJECTS = new Set(['OBJECT_TABLE', 'OBJECT_VIEW', 'OBJECT_MATVIEW', 'OBJECT_FOREIGN_TABLE']);

export function factsFromTree(tree: unknown, source: Source): TreeFacts {
  const state: State = { literalDependent: false, secretSites: [], statement: { start: 0, end: -1 }, source };
  const statements: SqlStatementFacts[] = [];
  const root = isTreeObject(tree) ? tree : {};
  for (const raw of treeList(root['stmts'])) {
    if (!isTreeObject(raw)) continue;
    const node = unwrapNode(raw['stmt']);
    const start = typeof raw['stmt_location'] === 'number' ? raw['stmt_location'] : 0;
    const len = typeof raw['stmt_len'] === 'number' && raw['stmt_len'] > 0 ? raw['stmt_len'] : -1;
    state.statement = { start, end: len < 0 ? -1 : start + len };
    if (node === undefined) {
      statements.push(finish(statementKind('unknown', {}), new Collector(), {}));
      continue;
    }
    const sink: Sink = [];
    const { facts } = analyzeStatement(node[0], node[1], NO_CTES, state, sink);
    const nested = sink.filter((f): f is SqlStatementFacts => f !== undefined);
    statements.push(nested.length > 0 ? Object.freeze({ ...facts, nested: Object.freeze(nested) }) : facts);
  }
  return { statements, literalDependent: state.literalDependent, secretSites: state.secretSites };
}

interface Analysed {
  readonly facts: SqlStatementFacts;
  readonly collector: Collector;
}

function analyzeStatement(
  type: string,
  body: TreeObject,
  scope: CteScope,
  state: State,
  sink: Sink | null,
): Analysed {
  const c = new Collector();
  const w = makeWalk(c, state, sink);
  let kind = statementKind(type, body);
  const extra: { hasWhere?: boolean; analyze?: boolean } = {};

  switch (type) {
    case 'SelectStmt': {
      const into = body['intoClause'];
      if (isTreeObject(into)) {
        kind = statementKind('CreateTableAsStmt', body);
        c.modifiesData = into['skipData'] !== true;
      }
      walkSelect(body, scope, w);
      break;
    }
    case 'UpdateStmt':
    case 'DeleteStmt':
      extra.hasWhere = body['whereClause'] !== undefined && body['whereClause'] !== null;
      c.modifiesData = true;
      walkDml(body, scope, w);
      if (type === 'UpdateStmt') addRoleSwitches(pgSettingsRoleSwitch(body), [], sink);
      break;
    case 'InsertStmt':
    case 'MergeStmt':
      c.modifiesData = true;
      walkDml(body, scope, w);
      break;
    case 'TruncateStmt':
      c.modifiesData = true;
      walkNode(body, scope, w);
      break;
    case 'CopyStmt':
      walkCopy(body, scope, w, () => copyNamesServerFile(statementText(state), state.source.parser));
      break;
    case 'ExplainStmt':
      extra.analyze = explainAnalyzes(body['options'], state);
      if (extra.analyze) nestOrWalk(body['query'], scope, w, true);
      // Nothing runs: names only, no nested statements, no role switch.
      else walkNode(body['query'], scope, makeWalk(c, state, null));
      break;
    case 'PrepareStmt':
      nestOrWalk(body['query'], scope, w, false);
      break;
    case 'RuleStmt':
      if (isTreeObject(body['relation'])) recordTable(body['relation'], w);
      walkNode(body['whereClause'], scope, w);
      for (const action of treeList(body['actions'])) nestOrWalk(action, NO_CTES, w, false);
      break;
    case 'CreateFunctionStmt':
      walkFunctionDefinition(body, w, state, sink);
      break;
    case 'AlterFunctionStmt':
      walkNode(omit(body, ['actions']), scope, w);
      nestFunctionSettings(body['actions'], w);
      break;
    case 'CreateTableAsStmt':
    case 'RefreshMatViewStmt': {
      const into = isTreeObject(body['into']) ? body['into'] : body;
      c.modifiesData = into['skipData'] !== true;
      walkNode(body, scope, w);
      break;
    }
    case 'CallStmt':
      if (isTreeObject(body['funccall'])) recordFunction(body['funccall'], w);
      walkNode(body, scope, w);
      break;
    case 'DropStmt':
      if (TABLE_OBJECTS.has(String(body['removeType']))) {
        for (const object of treeList(body['objects'])) addNamedObject(c, unwrapNode(object)?.[1]['items']);
      }
      break;
    case 'CommentStmt':
    case 'SecLabelStmt':
      addCommentedObject(c, body);
      break;
    case 'CompositeTypeStmt':
    case 'CreateSeqStmt':
    case 'AlterSeqStmt':
      // A type's or a sequence's own name is a RangeVar but not a table.
      walkNode(omit(body, ['typevar', 'sequence']), scope, w);
      break;
    case 'DoStmt':
      // Opaque: the body is dynamic code that the parser does not see.
      break;
    default:
      walkNode(body, scope, w);
  }

  const sites = statementSecretSites(type, body, state.statement);
  if (sites.length > 0) {
    state.literalDependent = true;
    state.secretSites.push(...sites);
  }
  return { facts: finish(kind, c, extra), collector: c };
}

/**
 * libpg-query's JSON leaves out fields that hold their default (false, 0, empty list): `ANALYZE t`
 * is a VacuumStmt without `is_vacuumcmd`. The kind mapping reads such booleans, so they are filled
 * in before it sees the node.
 */
const OMITTED_FALSE: Readonly<Record<string, readonly string[]>> = {
  VacuumStmt: ['is_vacuumcmd'],
  GrantStmt: ['is_grant'],
  GrantRoleStmt: ['is_grant'],
};

function statementKind(type: string, body: TreeObject): string {
  const fields = OMITTED_FALSE[type];
  if (fields === undefined) return sqlStatementKind(type, body);
  const filled: Record<string, unknown> = { ...body };
  for (const field of fields) filled[field] ??= false;
  return sqlStatementKind(type, filled);
}

function makeWalk(c: Collector, state: State, sink: Sink | null): Walk {
  return {
    c,
    nest(type, body, scope, runs) {
      if (sink === null) return false;
      const slot = sink.length;
      sink.push(undefined);
      const inner = analyzeStatement(type, body, scope, state, sink);
      sink[slot] = inner.facts;
      c.absorb(inner.collector, runs);
      return true;
    },
    onFunction(parts, call) {
      const role = setConfigRoleSwitch(parts, call);
      const secrets = functionSecretSites(parts, call, state.statement);
      if (role.readLiteral || secrets.readLiteral) state.literalDependent = true;
      state.secretSites.push(...secrets.sites);
      addRoleSwitches(role.kinds, parts, sink);
    },
  };
}

function addRoleSwitches(kinds: readonly string[], via: readonly string[], sink: Sink | null): void {
  if (sink === null) return;
  const functions = via.length > 0 ? [qualifiedName(via)] : [];
  for (const kind of kinds) {
    sink.push(
      Object.freeze({
        kind,
        tables: Object.freeze([]),
        functions: Object.freeze(functions),
        modifiesData: false,
      }),
    );
  }
}

/** A statement found inside another: judged on its own where statements are nested. */
function nestOrWalk(value: unknown, scope: CteScope, w: Walk, runs: boolean): void {
  const node = unwrapNode(value);
  if (node?.[0].endsWith('Stmt') && w.nest(node[0], node[1], scope, runs)) return;
  walkNode(value, scope, w);
}

function statementText(state: State): string {
  const { text } = state.source;
  const map = offsetMap(text);
  const { start, end } = state.statement;
  return text.slice(map.fromByte(start), end < 0 ? text.length : map.fromByte(end));
}

function walkCopy(body: TreeObject, scope: CteScope, w: Walk, namesFile: () => boolean): void {
  const c = w.c;
  const relation = body['relation'];
  if (isTreeObject(relation)) recordTable(relation, w);
  const query = unwrapNode(body['query']);
  // COPY (DELETE … RETURNING *) TO … runs the DELETE.
  if (query !== undefined && DML_STATEMENTS.has(query[0])) nestOrWalk(body['query'], scope, w, true);
  else walkNode(body['query'], scope, w);
  walkNode(body['whereClause'], scope, w);
  const isFrom = body['is_from'] === true;
  if (isFrom) c.modifiesData = true;
  if (body['is_program'] === true) c.copyProgram = true;
  else if (typeof body['filename'] === 'string' || namesFile()) {
    if (isFrom) c.readsServerFiles = true;
    else c.writesServerFiles = true;
  }
}

/**
 * EXPLAIN's ANALYZE option: `ANALYZE`, `(ANALYZE)`, `(ANALYZE true|on|1)`. PostgreSQL rejects any
 * other value than true/false/on/off/1/0, so everything but an explicit false counts as true.
 */
function explainAnalyzes(options: unknown, state: State): boolean {
  let analyze = false;
  for (const item of treeList(options)) {
    const node = unwrapNode(item);
    if (node === undefined || node[0] !== 'DefElem' || node[1]['defname'] !== 'analyze') continue;
    const arg = unwrapNode(node[1]['arg']);
    if (arg === undefined) {
      analyze = true;
      continue;
    }
    // `(ANALYZE 'off')` and `(ANALYZE 0)` are literals: the answer depends on their values.
    state.literalDependent = true;
    analyze = !isExplicitFalse(arg[0], arg[1]);
  }
  return analyze;
}

function isExplicitFalse(type: string, body: TreeObject): boolean {
  if (type === 'String') return ['false', 'off'].includes(String(body['sval']).toLowerCase());
  if (type === 'Integer') return body['ival'] === undefined || body['ival'] === 0;
  if (type === 'Boolean') return body['boolval'] !== true;
  return false;
}

function walkFunctionDefinition(body: TreeObject, w: Walk, state: State, sink: Sink | null): void {
  walkNode(omit(body, ['sql_body', 'options']), NO_CTES, w);
  nestFunctionSettings(body['options'], w);
  // `BEGIN ATOMIC …; END` bodies are parsed: a list of statement lists. `RETURN expr` is an expression.
  const stack: unknown[] = [body['sql_body']];
  while (stack.length > 0) {
    const value = stack.pop();
    const node = unwrapNode(value);
    if (node !== undefined && node[0] === 'List') stack.push(...[...treeList(node[1]['items'])].reverse());
    else if (Array.isArray(value)) stack.push(...[...value].reverse());
    else if (node !== undefined && node[0] === 'ReturnStmt') walkNode(value, NO_CTES, w);
    else nestOrWalk(value, NO_CTES, w, false);
  }
  const definition = functionDefinition(body['options']);
  if (definition.body === undefined) return;
  // The body and the language are literals: a text differing only in them may differ here.
  state.literalDependent = true;
  const readable =
    definition.language === 'sql' && nestSqlText(definition.body, definition.at, w, state, sink);
  if (!readable) addOpaqueCode(sink);
}

/** The `LANGUAGE` and the `AS` body of a function definition (C functions have two AS strings). */
function functionDefinition(options: unknown): { language?: string; body?: string; at: number } {
  const out: { language?: string; body?: string; at: number } = { at: -1 };
  for (const item of treeList(options)) {
    const node = unwrapNode(item);
    if (node === undefined || node[0] !== 'DefElem') continue;
    const def = node[1];
    if (def['defname'] === 'language') {
      const arg = unwrapNode(def['arg']);
      if (arg?.[0] === 'String') out.language = String(arg[1]['sval'] ?? '').toLowerCase();
    } else if (def['defname'] === 'as') {
      const parts = treeList(unwrapNode(def['arg'])?.[1]['items']).map((p) => unwrapNode(p));
      // libpg-query leaves out empty strings: an empty body is a String without sval.
      out.body = parts.map((p) => (p?.[0] === 'String' ? String(p[1]['sval'] ?? '') : '')).join('\n');
      out.at = typeof def['location'] === 'number' ? def['location'] : -1;
    }
  }
  return out;
}

/** Longest SQL function body the gateway reads; a longer one is judged as opaque code. */
const MAX_BODY_LENGTH = 256 * 1024;
/** As the analyzer's own limit for a whole text: deeper nesting can exhaust the parser's stack. */
const MAX_BODY_NESTING = 2500;

/**
 * Parses a SQL function's string body and nests its statements as stored ones (they run when the
 * function is called). Returns false when the body cannot be read, which the caller turns into
 * opaque code. Secrets in the body (a CREATE ROLE … PASSWORD inside it) make the whole body literal
 * a secret site of the outer statement: offsets inside the body mean nothing in the outer text.
 */
function nestSqlText(text: string, at: number, w: Walk, state: State, sink: Sink | null): boolean {
  if (text.length > MAX_BODY_LENGTH || lexSql(text).nesting > MAX_BODY_NESTING) return false;
  const parser = state.source.parser;
  const parsed = parser.parse(text);
  if (!parsed.ok) return false;
  const inner: State = {
    literalDependent: false,
    secretSites: [],
    statement: { start: 0, end: -1 },
    source: { text, parser },
  };
  const root = isTreeObject(parsed.tree) ? parsed.tree : {};
  for (const raw of treeList(root['stmts'])) {
    if (!isTreeObject(raw)) continue;
    const node = unwrapNode(raw['stmt']);
    if (node === undefined) return false;
    const start = typeof raw['stmt_location'] === 'number' ? raw['stmt_location'] : 0;
    const len = typeof raw['stmt_len'] === 'number' && raw['stmt_len'] > 0 ? raw['stmt_len'] : -1;
    inner.statement = { start, end: len < 0 ? -1 : start + len };
    if (sink === null) {
      walkNode(raw['stmt'], NO_CTES, makeWalk(w.c, inner, null));
      continue;
    }
    const slot = sink.length;
    sink.push(undefined);
    const analysed = analyzeStatement(node[0], node[1], NO_CTES, inner, sink);
    sink[slot] = analysed.facts;
    w.c.absorb(analysed.collector, false);
  }
  if (inner.secretSites.length > 0) {
    state.secretSites.push({
      type: 'option',
      location: at,
      name: 'as',
      value: text,
      statement: state.statement,
    });
  }
  return true;
}

/** Code that will run later and that no parser here can read: judged as the DO block it amounts to. */
function addOpaqueCode(sink: Sink | null): void {
  if (sink === null) return;
  sink.push(
    Object.freeze({
      kind: sqlStatementKind('DoStmt'),
      tables: Object.freeze([]),
      functions: Object.freeze([]),
      modifiesData: false,
    }),
  );
}

/** `SET name = value` clauses of CREATE/ALTER FUNCTION: applied each time the function runs. */
function nestFunctionSettings(options: unknown, w: Walk): void {
  for (const item of treeList(options)) {
    const node = unwrapNode(item);
    if (node === undefined || node[0] !== 'DefElem' || node[1]['defname'] !== 'set') continue;
    nestOrWalk(node[1]['arg'], NO_CTES, w, false);
  }
}

function addNamedObject(c: Collector, items: unknown): void {
  const parts = stringList(items);
  if (parts !== undefined && parts.length > 0) c.addTable(qualifiedName(parts), undefined);
}

function addCommentedObject(c: Collector, body: TreeObject): void {
  const objtype = String(body['objtype']);
  const items = unwrapNode(body['object'])?.[1]['items'];
  if (TABLE_OBJECTS.has(objtype)) addNamedObject(c, items);
  else if (objtype === 'OBJECT_COLUMN') addNamedObject(c, treeList(items).slice(0, -1));
}

function omit(body: TreeObject, keys: readonly string[]): TreeObject {
  const out: Record<string, unknown> = {};
  for (const key in body) if (!keys.includes(key)) out[key] = body[key];
  return out;
}

function finish(
  kind: string,
  c: Collector,
  extra: { hasWhere?: boolean; analyze?: boolean },
): SqlStatementFacts {
  const facts: {
    -readonly [K in keyof SqlStatementFacts]: SqlStatementFacts[K];
  } = {
    kind,
    tables: Object.freeze(orderedNames(c.tables)),
    functions: Object.freeze(orderedNames(c.functions)),
    modifiesData: c.modifiesData,
  };
  if (extra.hasWhere !== undefined) facts.hasWhere = extra.hasWhere;
  if (extra.analyze !== undefined) facts.analyze = extra.analyze;
  if (c.copyProgram) facts.copyProgram = true;
  const names = [...c.functionNames];
  if (c.readsServerFiles || names.some((f) => SERVER_FILE_READ_FUNCTIONS.has(f)))
    facts.readsServerFiles = true;
  if (c.writesServerFiles || names.some((f) => SERVER_FILE_WRITE_FUNCTIONS.has(f))) {
    facts.writesServerFiles = true;
  }
  return Object.freeze(facts);
}
