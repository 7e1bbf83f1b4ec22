/**
 * Turns a command's attributes into the units the rules judge. A unit is one thing a user could
 * have sent on its own: one SQL statement (nested statements become units of their own), one
 * simple shell command, one Kubernetes or HTTP request. Attributes come from other modules and are
 * read defensively: wrong types are ignored, never trusted, never thrown on.
 */
import { filePathForms, httpPathForms } from './paths.js';
import {
  SERVER_FILE_READ_FUNCTIONS,
  SERVER_FILE_WRITE_FUNCTIONS,
  sqlKindAliases,
  sqlStatementKind,
} from './sql-kinds.js';

/** A schema-qualified SQL name, lower-cased with quotes removed. */
export interface SqlName {
  /** Last component: the table or function name itself. */
  readonly name: string;
  /** `schema.name` forms this reference may denote (see `qualifiedForms`). */
  readonly qualified: readonly string[];
}

export interface SqlStatementUnit {
  readonly kind: string;
  /** The kind and every alias the statement belongs to. */
  readonly tokens: ReadonlySet<string>;
  readonly tables: readonly SqlName[];
  readonly functions: readonly SqlName[];
  readonly hasWhere: boolean | undefined;
}

export interface SqlUnits {
  readonly statements: readonly SqlStatementUnit[];
  /** Nesting went deeper than we follow; the engine fails closed. */
  readonly tooDeep: boolean;
}

export interface ShellUnit {
  readonly channel: string | undefined;
  /** One simple command's argv; undefined for channel opens and SFTP operations. */
  readonly argv: readonly string[] | undefined;
  readonly destination: string | undefined;
  readonly sftpOp: string | undefined;
  readonly path: string | undefined;
  /** The whole command could not be fully parsed: something may run that `argv` does not show. */
  readonly opaque: boolean;
  /** Normalised forms of `path` (see paths.ts); computed once per decision. */
  pathForms(broad: boolean): readonly string[];
}

export interface KubernetesUnit {
  readonly verb: string;
  readonly apiGroup: string;
  readonly resource: string | undefined;
  readonly subresource: string | undefined;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  readonly nonResourcePath: string | undefined;
}

export interface HttpUnit {
  readonly method: string;
  readonly path: string;
  readonly headers: ReadonlySet<string>;
  /** Normalised forms of `path` (see paths.ts); computed once per decision. */
  pathForms(broad: boolean): readonly string[];
}

/** Every rule asks for the same forms of one path; compute each variant at most once. */
function memoForms(path: string | undefined, forms: (raw: string, broad: boolean) => string[]) {
  let narrow: string[] | undefined;
  let broad: string[] | undefined;
  return (wantBroad: boolean): readonly string[] => {
    if (path === undefined) return [];
    if (wantBroad) {
      if (broad === undefined) broad = forms(path, true);
      return broad;
    }
    if (narrow === undefined) narrow = forms(path, false);
    return narrow;
  };
}

const MAX_NESTING = 32;

export function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function asStringList(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  const out: string[] = [];
  for (const v of value) if (typeof v === 'string') out.push(v);
  return out;
}

/** Splits `a."B.c".d` on dots outside double quotes, unquoting and lower-casing each part. */
export function splitSqlName(raw: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string;
    if (c === '"') {
      if (quoted && raw[i + 1] === '"') {
        cur += '"';
        i++;
      } else {
        quoted = !quoted;
      }
    } else if (c === '.' && !quoted) {
      parts.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  parts.push(cur);
  return parts.map((p) => p.trim().toLowerCase());
}

/**
 * An unqualified name resolves through the search path, which we cannot see; PostgreSQL always
 * searches `pg_catalog` and by default `public`, so `orders` may denote `public.orders` and
 * `pg_authid` denotes `pg_catalog.pg_authid`. A rule written with either schema matches both forms.
 */
export function sqlName(raw: string): SqlName {
  const parts = splitSqlName(raw);
  const name = parts[parts.length - 1] ?? '';
  if (parts.length >= 2) return { name, qualified: [`${parts[parts.length - 2]}.${name}`] };
  return { name, qualified: [`public.${name}`, `pg_catalog.${name}`] };
}

export function readSqlUnits(attributes: unknown): SqlUnits {
  const statements: SqlStatementUnit[] = [];
  let tooDeep = false;
  const visit = (list: unknown, depth: number): void => {
    if (!Array.isArray(list)) return;
    if (depth > MAX_NESTING) {
      if (list.length > 0) tooDeep = true;
      return;
    }
    for (const raw of list) {
      const s = asRecord(raw);
      statements.push(readStatement(s));
      visit(s['nested'], depth + 1);
    }
  };
  visit(asRecord(attributes)['statements'], 0);
  return { statements, tooDeep };
}

function readStatement(s: Record<string, unknown>): SqlStatementUnit {
  let kind = (asString(s['kind']) ?? 'unknown').trim();
  // Accept a raw parser node type too (`DropStmt`); producers should not rely on it.
  kind = /Stmt$/.test(kind) ? sqlStatementKind(kind) : kind.toLowerCase();
  if (kind === '') kind = 'unknown';
  const tables = asStringList(s['tables']).map(sqlName);
  const functions = asStringList(s['functions']).map(sqlName);
  const functionNames = functions.map((f) => f.name);
  const flag = (key: string): boolean => s[key] === true;
  const traits = {
    kind,
    modifiesData: flag('modifiesData'),
    analyze: flag('analyze'),
    copyProgram: flag('copyProgram'),
    readsServerFiles:
      flag('readsServerFiles') || functionNames.some((f) => SERVER_FILE_READ_FUNCTIONS.has(f)),
    writesServerFiles:
      flag('writesServerFiles') || functionNames.some((f) => SERVER_FILE_WRITE_FUNCTIONS.has(f)),
    functionNames,
  };
  const tokens = new Set<string>([kind, ...sqlKindAliases(traits)]);
  const hasWhere = typeof s['hasWhere'] === 'boolean' ? s['hasWhere'] : undefined;
  return { kind, tokens, tables, functions, hasWhere };
}

export function readShellUnits(attributes: unknown): ShellUnit[] {
  const a = asRecord(attributes);
  const path = asString(a['path']);
  const base = {
    channel: asString(a['channel']),
    destination: asString(a['destination']),
    sftpOp: asString(a['sftpOp'])?.toLowerCase(),
    path,
    opaque: a['opaque'] === true,
    pathForms: memoForms(path, filePathForms),
  };
  const commands = Array.isArray(a['commands']) ? a['commands'] : [];
  const units: ShellUnit[] = [];
  for (const c of commands) {
    const argv = asStringList(c);
    if (argv.length > 0) units.push({ ...base, argv });
  }
  if (units.length === 0) units.push({ ...base, argv: undefined });
  return units;
}

export function readKubernetesUnit(attributes: unknown): KubernetesUnit {
  const a = asRecord(attributes);
  const opt = (key: string): string | undefined => {
    const v = asString(a[key]);
    return v === undefined || v === '' ? undefined : v;
  };
  return {
    verb: (asString(a['verb']) ?? '').toLowerCase(),
    apiGroup: asString(a['apiGroup']) ?? '',
    resource: opt('resource'),
    subresource: opt('subresource'),
    namespace: opt('namespace'),
    name: opt('name'),
    nonResourcePath: opt('nonResourcePath'),
  };
}

export function readHttpUnit(attributes: unknown): HttpUnit {
  const a = asRecord(attributes);
  const path = asString(a['path']) ?? '';
  return {
    method: (asString(a['method']) ?? '').toUpperCase(),
    path,
    headers: new Set(asStringList(a['headers']).map((h) => h.toLowerCase())),
    pathForms: memoForms(path, httpPathForms),
  };
}
