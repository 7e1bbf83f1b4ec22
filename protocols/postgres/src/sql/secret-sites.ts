/**
 * Where a statement carries a secret in a string literal: role passwords, passwords in foreign
 * server and user mapping options, subscription connection strings, and connection strings given
 * to dblink. The parse tree gives the decoded value and roughly where it is; redaction.ts finds
 * the literal's exact token with the scanner.
 */
import { constantString, isTreeObject, type TreeObject, treeList, unwrapNode } from './parse-tree.js';

/** Byte offsets of a statement in the UTF-8 text; `end` is exclusive. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

export type SecretSite =
  /** `name 'value'`: a role's PASSWORD, an FDW option. `location` is at or just before the name. */
  | {
      readonly type: 'option';
      readonly location: number;
      readonly name: string;
      readonly value: string | undefined;
      readonly statement: ByteRange;
    }
  /** The literal right after a keyword: `CONNECTION 'host=… password=…'`. */
  | {
      readonly type: 'after-keyword';
      readonly keyword: string;
      readonly value: string | undefined;
      readonly statement: ByteRange;
    }
  /** A string constant whose own location is known: a dblink connection string. */
  | {
      readonly type: 'literal';
      readonly location: number;
      readonly value: string | undefined;
      readonly statement: ByteRange;
    };

const ROLE_STATEMENTS = new Set(['CreateRoleStmt', 'AlterRoleStmt']);

/** Statements whose generic options (`OPTIONS (name 'value', …)`) may hold credentials. */
const OPTION_STATEMENTS = new Set([
  'CreateUserMappingStmt',
  'AlterUserMappingStmt',
  'CreateForeignServerStmt',
  'AlterForeignServerStmt',
  'CreateFdwStmt',
  'AlterFdwStmt',
  'CreateForeignTableStmt',
  'AlterForeignTableStmt',
]);

/** FDW option names that hold credentials; postgres_fdw's is `password`, others vary. */
const SECRET_OPTION =
  /^(?:password|passwd|sslpassword|secret|token|api_?key|[a-z0-9_]*_(?:password|passwd|secret|token|api_?key|access_key|secret_key|private_key))$/i;

/** A libpq connection string or URI that carries a password. */
const CONNINFO_WITH_PASSWORD = /password\s*=|:\/\/[^/?#@\s]*:[^/?#@\s]*@/i;

const DBLINK_FUNCTIONS = new Set([
  'dblink',
  'dblink_exec',
  'dblink_connect',
  'dblink_connect_u',
  'dblink_send_query',
  'dblink_open',
  'dblink_fdw_validator',
]);

export function statementSecretSites(type: string, body: TreeObject, statement: ByteRange): SecretSite[] {
  const sites: SecretSite[] = [];
  if (ROLE_STATEMENTS.has(type) || OPTION_STATEMENTS.has(type)) {
    const isRole = ROLE_STATEMENTS.has(type);
    for (const item of treeList(body['options'])) {
      const node = unwrapNode(item);
      if (node === undefined || node[0] !== 'DefElem') continue;
      const def = node[1];
      const name = typeof def['defname'] === 'string' ? def['defname'] : '';
      if (isRole ? name !== 'password' : !SECRET_OPTION.test(name)) continue;
      if (def['defaction'] === 'DEFELEM_DROP') continue;
      const location = typeof def['location'] === 'number' ? def['location'] : -1;
      sites.push({ type: 'option', location, name, value: constantString(def['arg']), statement });
    }
  }
  if (type === 'CreateSubscriptionStmt' || type === 'AlterSubscriptionStmt') {
    const conninfo = body['conninfo'];
    if (typeof conninfo === 'string') {
      sites.push({ type: 'after-keyword', keyword: 'connection', value: conninfo, statement });
    }
  }
  return sites;
}

export interface FunctionSecrets {
  readonly sites: readonly SecretSite[];
  /** Whether the answer depended on a literal's value (any dblink call does). */
  readonly readLiteral: boolean;
}

const NO_SECRETS: FunctionSecrets = { sites: [], readLiteral: false };

export function functionSecretSites(
  parts: readonly string[],
  call: TreeObject,
  statement: ByteRange,
): FunctionSecrets {
  if (!DBLINK_FUNCTIONS.has((parts[parts.length - 1] ?? '').toLowerCase())) return NO_SECRETS;
  const sites: SecretSite[] = [];
  for (const arg of treeList(call['args'])) {
    const node = unwrapNode(arg);
    const constant = node?.[0] === 'NamedArgExpr' ? unwrapNode(node[1]['arg']) : node;
    if (constant === undefined || constant[0] !== 'A_Const' || !isTreeObject(constant[1]['sval'])) continue;
    const value = constantString({ A_Const: constant[1] });
    const location = constant[1]['location'];
    if (value === undefined || typeof location !== 'number' || !CONNINFO_WITH_PASSWORD.test(value)) continue;
    sites.push({ type: 'literal', location, value, statement });
  }
  return { sites, readLiteral: true };
}
