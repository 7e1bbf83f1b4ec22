import { describe, expect, it } from 'vitest';
import { SQL_STATEMENT_KINDS, sqlStatementKind } from './sql-kinds.js';

describe('sqlStatementKind', () => {
  it.each([
    ['SelectStmt', undefined, 'select'],
    ['CreateStmt', undefined, 'create_table'],
    ['DropStmt', undefined, 'drop'],
    ['TruncateStmt', undefined, 'truncate'],
    ['CreateRoleStmt', undefined, 'create_role'],
    ['GrantStmt', { is_grant: true }, 'grant'],
    ['GrantStmt', { is_grant: false }, 'revoke'],
    ['GrantRoleStmt', {}, 'revoke_role'],
    ['VacuumStmt', { is_vacuumcmd: true }, 'vacuum'],
    ['VacuumStmt', { is_vacuumcmd: false }, 'analyze'],
    ['VacuumStmt', {}, 'analyze'],
    ['SelectStmt', { intoClause: { rel: { relname: 't' } } }, 'create_table_as'],
    ['SelectStmt', {}, 'select'],
    ['VariableSetStmt', { kind: 'VAR_SET_VALUE', name: 'search_path' }, 'set'],
    ['VariableSetStmt', { kind: 'VAR_SET_VALUE', name: 'role' }, 'set_role'],
    ['VariableSetStmt', { kind: 'VAR_RESET', name: 'role' }, 'reset_role'],
    [
      'VariableSetStmt',
      { kind: 'VAR_SET_VALUE', name: 'session_authorization' },
      'set_session_authorization',
    ],
    ['VariableSetStmt', { kind: 'VAR_RESET', name: 'session_authorization' }, 'reset_session_authorization'],
    ['VariableSetStmt', { kind: 'VAR_RESET_ALL' }, 'reset'],
    ['AlterSystemStmt', undefined, 'alter_system'],
    ['CheckPointStmt', undefined, 'checkpoint'],
    ['SomeFutureThingStmt', undefined, 'some_future_thing'],
  ])('%s %j → %s', (node, body, kind) => {
    expect(sqlStatementKind(node, body)).toBe(kind);
  });

  it('only ever produces kinds of the vocabulary for known nodes', () => {
    for (const node of ['SelectStmt', 'MergeStmt', 'CopyStmt', 'DoStmt', 'CallStmt', 'ExplainStmt']) {
      expect(SQL_STATEMENT_KINDS.has(sqlStatementKind(node))).toBe(true);
    }
  });
});
