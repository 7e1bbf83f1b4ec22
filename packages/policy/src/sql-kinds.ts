/**
 * The vocabulary of SQL statement kinds and the aliases rules may use (`read`, `write`, `ddl`,
 * `admin`, `session`). Kinds come from the PostgreSQL parser's statement node types, normalised to
 * snake-case words; `sqlStatementKind` is the one mapping producers use, so that the names a rule
 * author writes and the names a protocol module emits cannot drift apart.
 */

/** libpg-query statement node type → canonical kind. Refinements by node content are below. */
const NODE_KINDS: Readonly<Record<string, string>> = {
  SelectStmt: 'select',
  InsertStmt: 'insert',
  UpdateStmt: 'update',
  DeleteStmt: 'delete',
  MergeStmt: 'merge',
  CopyStmt: 'copy',
  TruncateStmt: 'truncate',
  ExplainStmt: 'explain',
  VariableSetStmt: 'set',
  VariableShowStmt: 'show',
  DiscardStmt: 'discard',
  TransactionStmt: 'transaction',
  ConstraintsSetStmt: 'set_constraints',
  LockStmt: 'lock',
  PrepareStmt: 'prepare',
  ExecuteStmt: 'execute',
  DeallocateStmt: 'deallocate',
  DeclareCursorStmt: 'declare_cursor',
  FetchStmt: 'fetch',
  ClosePortalStmt: 'close',
  ListenStmt: 'listen',
  UnlistenStmt: 'unlisten',
  NotifyStmt: 'notify',
  DoStmt: 'do',
  CallStmt: 'call',
  ReturnStmt: 'return',
  PLAssignStmt: 'plassign',
  CreateStmt: 'create_table',
  CreateTableAsStmt: 'create_table_as',
  CreateForeignTableStmt: 'create_foreign_table',
  ViewStmt: 'create_view',
  IndexStmt: 'create_index',
  CreateSchemaStmt: 'create_schema',
  CreateSeqStmt: 'create_sequence',
  CreateFunctionStmt: 'create_function',
  CreateTrigStmt: 'create_trigger',
  CreateEventTrigStmt: 'create_event_trigger',
  CreateDomainStmt: 'create_domain',
  CompositeTypeStmt: 'create_type',
  CreateEnumStmt: 'create_enum',
  CreateRangeStmt: 'create_range',
  DefineStmt: 'define',
  CreateStatsStmt: 'create_statistics',
  CreatePolicyStmt: 'create_policy',
  CreateAmStmt: 'create_access_method',
  CreateOpClassStmt: 'create_operator_class',
  CreateOpFamilyStmt: 'create_operator_family',
  CreateCastStmt: 'create_cast',
  CreateConversionStmt: 'create_conversion',
  CreateTransformStmt: 'create_transform',
  CreatePLangStmt: 'create_language',
  RuleStmt: 'create_rule',
  CreateExtensionStmt: 'create_extension',
  CreateFdwStmt: 'create_foreign_data_wrapper',
  CreateForeignServerStmt: 'create_foreign_server',
  CreateUserMappingStmt: 'create_user_mapping',
  CreatePublicationStmt: 'create_publication',
  CreateSubscriptionStmt: 'create_subscription',
  CreatedbStmt: 'create_database',
  CreateTableSpaceStmt: 'create_tablespace',
  CreateRoleStmt: 'create_role',
  AlterTableStmt: 'alter_table',
  AlterTableMoveAllStmt: 'alter_table_move_all',
  AlterDomainStmt: 'alter_domain',
  AlterSeqStmt: 'alter_sequence',
  AlterFunctionStmt: 'alter_function',
  AlterEnumStmt: 'alter_enum',
  AlterTypeStmt: 'alter_type',
  AlterOperatorStmt: 'alter_operator',
  AlterOpFamilyStmt: 'alter_operator_family',
  AlterStatsStmt: 'alter_statistics',
  AlterPolicyStmt: 'alter_policy',
  AlterCollationStmt: 'alter_collation',
  AlterTSDictionaryStmt: 'alter_text_search_dictionary',
  AlterTSConfigurationStmt: 'alter_text_search_configuration',
  AlterObjectDependsStmt: 'alter_object_depends',
  AlterObjectSchemaStmt: 'alter_object_schema',
  AlterOwnerStmt: 'alter_owner',
  AlterEventTrigStmt: 'alter_event_trigger',
  AlterExtensionStmt: 'alter_extension',
  AlterExtensionContentsStmt: 'alter_extension_contents',
  AlterFdwStmt: 'alter_foreign_data_wrapper',
  AlterForeignServerStmt: 'alter_foreign_server',
  AlterUserMappingStmt: 'alter_user_mapping',
  AlterPublicationStmt: 'alter_publication',
  AlterSubscriptionStmt: 'alter_subscription',
  AlterDatabaseStmt: 'alter_database',
  AlterDatabaseSetStmt: 'alter_database_set',
  AlterDatabaseRefreshCollStmt: 'alter_database_refresh_collation',
  AlterTableSpaceOptionsStmt: 'alter_tablespace_options',
  AlterRoleStmt: 'alter_role',
  AlterRoleSetStmt: 'alter_role_set',
  AlterSystemStmt: 'alter_system',
  AlterDefaultPrivilegesStmt: 'alter_default_privileges',
  RenameStmt: 'rename',
  CommentStmt: 'comment',
  SecLabelStmt: 'security_label',
  ImportForeignSchemaStmt: 'import_foreign_schema',
  RefreshMatViewStmt: 'refresh_materialized_view',
  DropStmt: 'drop',
  DropRoleStmt: 'drop_role',
  DropOwnedStmt: 'drop_owned',
  ReassignOwnedStmt: 'reassign_owned',
  DropdbStmt: 'drop_database',
  DropTableSpaceStmt: 'drop_tablespace',
  DropUserMappingStmt: 'drop_user_mapping',
  DropSubscriptionStmt: 'drop_subscription',
  GrantStmt: 'grant',
  GrantRoleStmt: 'grant_role',
  VacuumStmt: 'vacuum',
  ClusterStmt: 'cluster',
  ReindexStmt: 'reindex',
  CheckPointStmt: 'checkpoint',
  LoadStmt: 'load',
};

/** Kinds produced only by refining a node (see `sqlStatementKind`). */
const REFINED_KINDS = [
  'revoke',
  'revoke_role',
  'analyze',
  'reset',
  'set_role',
  'reset_role',
  'set_session_authorization',
  'reset_session_authorization',
] as const;

/** Every kind a producer may emit, besides `unknown`. */
export const SQL_STATEMENT_KINDS: ReadonlySet<string> = new Set([
  ...Object.values(NODE_KINDS),
  ...REFINED_KINDS,
  'unknown',
]);

/**
 * Maps a libpg-query statement node (`{ SelectStmt: {...} }` → `'SelectStmt'`, node body) to the
 * canonical kind. The body refines a few kinds whose meaning differs by content: REVOKE shares
 * GrantStmt, ANALYZE shares VacuumStmt, and SET ROLE / SET SESSION AUTHORIZATION share
 * VariableSetStmt with harmless settings — a rule must be able to tell them apart.
 */
export function sqlStatementKind(nodeType: string, node?: unknown): string {
  const body = (typeof node === 'object' && node !== null ? node : {}) as Record<string, unknown>;
  switch (nodeType) {
    case 'GrantStmt':
      return body['is_grant'] === true ? 'grant' : 'revoke';
    case 'GrantRoleStmt':
      return body['is_grant'] === true ? 'grant_role' : 'revoke_role';
    case 'VacuumStmt':
      // The parser's JSON omits false booleans: ANALYZE arrives without is_vacuumcmd at all.
      return body['is_vacuumcmd'] === true ? 'vacuum' : 'analyze';
    case 'SelectStmt':
      // SELECT … INTO t creates a table; PostgreSQL turns it into CREATE TABLE AS.
      return body['intoClause'] !== undefined ? 'create_table_as' : 'select';
    case 'VariableSetStmt':
      return variableSetKind(body);
  }
  const known = NODE_KINDS[nodeType];
  if (known !== undefined) return known;
  // A node type newer than this table: derive the same shape of name rather than losing it.
  const derived = nodeType
    .replace(/Stmt$/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase();
  return derived === '' ? 'unknown' : derived;
}

function variableSetKind(body: Record<string, unknown>): string {
  const name = typeof body['name'] === 'string' ? body['name'].toLowerCase() : '';
  const reset = body['kind'] === 'VAR_RESET' || body['kind'] === 'VAR_RESET_ALL';
  if (name === 'role') return reset ? 'reset_role' : 'set_role';
  if (name === 'session_authorization') {
    return reset ? 'reset_session_authorization' : 'set_session_authorization';
  }
  return reset ? 'reset' : 'set';
}

const READ_KINDS = new Set(['select', 'show', 'explain', 'fetch', 'declare_cursor']);
const WRITE_KINDS = new Set(['insert', 'update', 'delete', 'merge', 'truncate', 'refresh_materialized_view']);
const SESSION_KINDS = new Set([
  'set',
  'reset',
  'show',
  'discard',
  'transaction',
  'set_constraints',
  'deallocate',
  'close',
  'listen',
  'unlisten',
  'notify',
]);
const ADMIN_KINDS = new Set([
  'grant',
  'revoke',
  'grant_role',
  'revoke_role',
  'alter_default_privileges',
  'create_role',
  'alter_role',
  'alter_role_set',
  'drop_role',
  'drop_owned',
  'reassign_owned',
  'set_role',
  'reset_role',
  'set_session_authorization',
  'reset_session_authorization',
  'alter_system',
  'vacuum',
  'analyze',
  'checkpoint',
  'load',
  'cluster',
  'reindex',
  // A DO block runs arbitrary statements through dynamic SQL that no parser can see.
  'do',
  'create_extension',
  'alter_extension',
  'alter_extension_contents',
  'create_event_trigger',
  'alter_event_trigger',
  'create_language',
  'create_access_method',
  'create_foreign_data_wrapper',
  'alter_foreign_data_wrapper',
  'create_foreign_server',
  'alter_foreign_server',
  'create_user_mapping',
  'alter_user_mapping',
  'drop_user_mapping',
  'create_publication',
  'alter_publication',
  'create_subscription',
  'alter_subscription',
  'drop_subscription',
  'create_database',
  'alter_database',
  'alter_database_set',
  'alter_database_refresh_collation',
  'drop_database',
  'create_tablespace',
  'drop_tablespace',
  'alter_tablespace_options',
  'alter_table_move_all',
  'security_label',
]);
const DDL_EXTRA = new Set(['drop', 'truncate', 'rename', 'comment', 'define', 'import_foreign_schema']);

/** Functions that read the server's file system. */
export const SERVER_FILE_READ_FUNCTIONS: ReadonlySet<string> = new Set([
  'pg_read_file',
  'pg_read_binary_file',
  'pg_stat_file',
  'pg_ls_dir',
  'pg_ls_logdir',
  'pg_ls_waldir',
  'pg_ls_tmpdir',
  'pg_ls_archive_statusdir',
  'pg_ls_logicalsnapdir',
  'pg_ls_logicalmapdir',
  'pg_ls_replslotdir',
  'pg_logdir_ls',
  'lo_import',
]);

/** Functions that write the server's file system. */
export const SERVER_FILE_WRITE_FUNCTIONS: ReadonlySet<string> = new Set([
  'lo_export',
  'pg_file_write',
  'pg_file_rename',
  'pg_file_unlink',
  'pg_file_sync',
]);

/** Functions that administer the server or reach beyond it; calling one makes a statement `admin`. */
export const ADMIN_FUNCTIONS: ReadonlySet<string> = new Set([
  ...SERVER_FILE_READ_FUNCTIONS,
  ...SERVER_FILE_WRITE_FUNCTIONS,
  'pg_terminate_backend',
  'pg_cancel_backend',
  'pg_signal_backend',
  'pg_reload_conf',
  'pg_rotate_logfile',
  'pg_promote',
  'pg_switch_wal',
  'pg_create_restore_point',
  'pg_backup_start',
  'pg_backup_stop',
  'pg_start_backup',
  'pg_stop_backup',
  'pg_create_physical_replication_slot',
  'pg_create_logical_replication_slot',
  'pg_drop_replication_slot',
  'pg_log_backend_memory_contexts',
  'dblink',
  'dblink_exec',
  'dblink_connect',
  'dblink_connect_u',
  'dblink_open',
  'dblink_send_query',
]);

export const SQL_KIND_ALIASES = ['read', 'write', 'ddl', 'admin', 'session'] as const;
export type SqlKindAlias = (typeof SQL_KIND_ALIASES)[number];

/** What alias membership is computed from: a statement's kind, flags and called functions. */
export interface StatementTraits {
  readonly kind: string;
  readonly modifiesData: boolean;
  readonly analyze: boolean;
  readonly copyProgram: boolean;
  readonly readsServerFiles: boolean;
  readonly writesServerFiles: boolean;
  /** Lower-cased, unqualified function names. */
  readonly functionNames: readonly string[];
}

export function isAdminStatement(s: StatementTraits): boolean {
  if (ADMIN_KINDS.has(s.kind) || s.copyProgram || s.readsServerFiles || s.writesServerFiles) return true;
  for (const f of s.functionNames) if (ADMIN_FUNCTIONS.has(f)) return true;
  return false;
}

/**
 * The aliases a statement belongs to. `read` is strict — no data change, no EXPLAIN ANALYZE, no
 * admin function — because allow rules are written with it; the other aliases are broad.
 */
export function sqlKindAliases(s: StatementTraits): SqlKindAlias[] {
  const out: SqlKindAlias[] = [];
  const admin = isAdminStatement(s);
  const copyRead = s.kind === 'copy' && !s.modifiesData;
  if (
    (READ_KINDS.has(s.kind) || copyRead) &&
    !s.modifiesData &&
    !admin &&
    !(s.kind === 'explain' && s.analyze)
  ) {
    out.push('read');
  }
  if (WRITE_KINDS.has(s.kind) || (s.modifiesData && !isDdlKind(s.kind) && !ADMIN_KINDS.has(s.kind))) {
    out.push('write');
  }
  if (isDdlKind(s.kind)) out.push('ddl');
  if (admin) out.push('admin');
  if (SESSION_KINDS.has(s.kind)) out.push('session');
  return out;
}

function isDdlKind(kind: string): boolean {
  if (ADMIN_KINDS.has(kind)) return false;
  return DDL_EXTRA.has(kind) || /^(?:create|alter|drop)_/.test(kind);
}

/** Names a rule's `sql.kinds` may use. */
export function isKnownSqlKindName(name: string): boolean {
  return SQL_STATEMENT_KINDS.has(name) || (SQL_KIND_ALIASES as readonly string[]).includes(name);
}
