import type { Identity, PolicyEngine } from '@gatehouse/core';
import { describe, expect, it } from 'vitest';
import { postgresQuery, type SqlStatementFacts, sqlStatement } from '../commands.js';
import type { RuleConfig } from '../config-schema.js';
import { compilePolicy } from '../policy-engine.js';

const identity: Identity = { subject: 'agent-1', groups: ['agents'], issuer: 'test' };

function engine(rules: RuleConfig[], defaultAction: 'allow' | 'deny' = 'allow'): PolicyEngine {
  return compilePolicy({ connections: [{ name: 'pg', policy: { rules, defaultAction } }] });
}

function decide(e: PolicyEngine, ...statements: SqlStatementFacts[]) {
  return e.decide({ connection: 'pg', identity, command: postgresQuery('text', statements) });
}

const S = sqlStatement;

describe('sql kinds and aliases', () => {
  const deny = (kinds: string[]) => engine([{ action: 'deny', sql: { kinds } }]);

  it.each([
    [['select'], S('select'), true],
    [['select'], S('insert'), false],
    [['read'], S('select', { tables: ['t'] }), true],
    [['read'], S('show'), true],
    [['read'], S('explain'), true],
    [['read'], S('explain', { analyze: true }), false],
    [['read'], S('copy', { tables: ['t'] }), true],
    [['read'], S('copy', { modifiesData: true }), false],
    [['read'], S('select', { functions: ['pg_read_file'] }), false],
    [['read'], S('select', { modifiesData: true }), false],
    [['write'], S('insert', { modifiesData: true }), true],
    [['write'], S('merge', { modifiesData: true }), true],
    [['write'], S('copy', { modifiesData: true }), true],
    [['write'], S('truncate'), true],
    [['write'], S('select'), false],
    [['ddl'], S('create_table'), true],
    [['ddl'], S('alter_table'), true],
    [['ddl'], S('drop'), true],
    [['ddl'], S('truncate'), true],
    [['ddl'], S('create_role'), false],
    [['ddl'], S('create_extension'), false],
    [['admin'], S('create_role'), true],
    [['admin'], S('alter_role'), true],
    [['admin'], S('grant'), true],
    [['admin'], S('revoke'), true],
    [['admin'], S('set_role'), true],
    [['admin'], S('reset_session_authorization'), true],
    [['admin'], S('alter_system'), true],
    [['admin'], S('do'), true],
    [['admin'], S('vacuum'), true],
    [['admin'], S('copy', { copyProgram: true }), true],
    [['admin'], S('copy', { readsServerFiles: true, modifiesData: true }), true],
    [['admin'], S('copy', { writesServerFiles: true }), true],
    [['admin'], S('select', { functions: ['pg_catalog.pg_read_file'] }), true],
    [['admin'], S('select', { functions: ['lo_export'] }), true],
    [['admin'], S('select', { functions: ['pg_terminate_backend'] }), true],
    [['admin'], S('select', { functions: ['now'] }), false],
    [['admin'], S('set'), false],
    [['session'], S('set'), true],
    [['session'], S('transaction'), true],
    [['session'], S('set_role'), false],
    [['drop'], S('DropStmt'), true],
  ])('%j matches %j: %s', (kinds, statement, matches) => {
    expect(decide(deny(kinds), statement).action).toBe(matches ? 'deny' : 'allow');
  });
});

describe('tables and functions', () => {
  it('matches unqualified patterns in any schema, case-insensitively', () => {
    const e = engine([{ action: 'deny', sql: { tables: ['users'] } }]);
    expect(decide(e, S('select', { tables: ['users'] })).action).toBe('deny');
    expect(decide(e, S('select', { tables: ['Auth.USERS'] })).action).toBe('deny');
    expect(decide(e, S('select', { tables: ['"Users"'] })).action).toBe('deny');
    expect(decide(e, S('select', { tables: ['users_archive'] })).action).toBe('allow');
  });

  it('matches qualified patterns; public and pg_catalog also cover unqualified names', () => {
    const e = engine([
      { action: 'deny', sql: { tables: ['public.secrets', 'pg_catalog.pg_authid', 'billing.*'] } },
    ]);
    expect(decide(e, S('select', { tables: ['secrets'] })).action).toBe('deny');
    expect(decide(e, S('select', { tables: ['public.secrets'] })).action).toBe('deny');
    expect(decide(e, S('select', { tables: ['other.secrets'] })).action).toBe('allow');
    expect(decide(e, S('select', { tables: ['pg_authid'] })).action).toBe('deny');
    expect(decide(e, S('select', { tables: ['billing.invoices'] })).action).toBe('deny');
    expect(decide(e, S('select', { tables: ['invoices'] })).action).toBe('allow');
    expect(decide(e, S('select', { tables: ['mydb.billing.invoices'] })).action).toBe('deny');
  });

  it('deny: any table matches; allow: at least one table and all of them match', () => {
    const deny = engine([{ action: 'deny', sql: { tables: ['secrets'] } }]);
    expect(decide(deny, S('select', { tables: ['orders', 'secrets'] })).action).toBe('deny');
    const allow = engine(
      [{ action: 'allow', sql: { kinds: ['read'], tables: ['orders', 'customers'] } }],
      'deny',
    );
    expect(decide(allow, S('select', { tables: ['orders', 'customers'] })).action).toBe('allow');
    expect(decide(allow, S('select', { tables: ['orders', 'secrets'] })).action).toBe('deny');
    expect(decide(allow, S('select', { tables: [] })).action).toBe('deny');
  });

  it('matches functions the same way', () => {
    const deny = engine([{ action: 'deny', sql: { functions: ['pg_sleep', 'dblink*'] } }]);
    expect(decide(deny, S('select', { functions: ['now', 'PG_SLEEP'] })).action).toBe('deny');
    expect(decide(deny, S('select', { functions: ['public.dblink_exec'] })).action).toBe('deny');
    expect(decide(deny, S('select', { functions: ['now'] })).action).toBe('allow');
    const allow = engine([{ action: 'allow', sql: { functions: ['report_*'] } }], 'deny');
    expect(decide(allow, S('select', { functions: ['report_daily'] })).action).toBe('allow');
    expect(decide(allow, S('select', { functions: ['report_daily', 'pg_sleep'] })).action).toBe('deny');
  });
});

describe('where: absent', () => {
  const e = engine([
    { action: 'deny', sql: { kinds: ['update', 'delete'], where: 'absent' }, message: 'no WHERE' },
  ]);

  it.each([
    [S('delete', { tables: ['t'], hasWhere: false, modifiesData: true }), 'deny'],
    [S('update', { tables: ['t'], hasWhere: false, modifiesData: true }), 'deny'],
    [S('delete', { tables: ['t'], hasWhere: true, modifiesData: true }), 'allow'],
    [S('select', { tables: ['t'] }), 'allow'],
  ])('%j → %s', (statement, action) => {
    expect(decide(e, statement).action).toBe(action);
  });
});

describe('pattern', () => {
  it('matches the raw text case-insensitively', () => {
    const e = engine([{ action: 'deny', sql: { pattern: '\\bpg_sleep\\s*\\(' } }]);
    const cmd = postgresQuery('select PG_SLEEP (10)', [S('select', { functions: ['pg_sleep'] })]);
    expect(e.decide({ connection: 'pg', identity, command: cmd }).action).toBe('deny');
  });

  it('in an allow rule only matches single-statement commands', () => {
    const e = engine([{ action: 'allow', sql: { pattern: '^select' } }], 'deny');
    const one = postgresQuery('select 1', [S('select')]);
    const two = postgresQuery('select 1; drop table t', [S('select'), S('drop', { tables: ['t'] })]);
    expect(e.decide({ connection: 'pg', identity, command: one }).action).toBe('allow');
    expect(e.decide({ connection: 'pg', identity, command: two }).action).toBe('deny');
  });
});

describe('multi-statement commands', () => {
  it('are denied when any statement is denied', () => {
    const e = engine([{ action: 'deny', sql: { kinds: ['drop'] } }]);
    expect(decide(e, S('select'), S('drop')).action).toBe('deny');
  });

  it('are allowed only when every statement is allowed', () => {
    const e = engine([{ action: 'allow', sql: { kinds: ['select'] } }], 'deny');
    expect(decide(e, S('select'), S('select')).action).toBe('allow');
    const d = decide(e, S('select'), S('drop', { tables: ['x'] }));
    expect(d).toMatchObject({ action: 'deny', ruleId: undefined });
  });

  it('let different rules allow different statements', () => {
    const e = engine(
      [
        { action: 'allow', sql: { kinds: ['read'] } },
        { action: 'allow', sql: { kinds: ['insert'], tables: ['orders'] } },
      ],
      'deny',
    );
    expect(decide(e, S('select'), S('insert', { tables: ['orders'], modifiesData: true })).action).toBe(
      'allow',
    );
  });

  it('take the most restrictive decision: deny over review over allow', () => {
    const e = engine([
      { id: 'review-writes', action: 'review', sql: { kinds: ['write'] } },
      { id: 'deny-secrets', action: 'deny', sql: { tables: ['secrets'] } },
    ]);
    const insert = S('insert', { tables: ['a'], modifiesData: true });
    expect(decide(e, S('select'), insert).ruleId).toBe('review-writes');
    expect(decide(e, insert, S('select', { tables: ['secrets'] })).ruleId).toBe('deny-secrets');
  });

  it('judge data-modifying CTEs as statements of their own', () => {
    const e = engine([{ action: 'deny', sql: { kinds: ['delete'] } }]);
    const cte = S('select', {
      tables: ['d'],
      nested: [S('delete', { tables: ['orders'], hasWhere: false, modifiesData: true })],
    });
    expect(decide(e, cte).action).toBe('deny');
    const allowRead = engine([{ action: 'allow', sql: { kinds: ['read'] } }], 'deny');
    expect(decide(allowRead, cte).action).toBe('deny');
  });

  it('judge nested statements of nested statements', () => {
    const e = engine([{ action: 'deny', sql: { kinds: ['drop'] } }]);
    const deep = S('explain', { analyze: true, nested: [S('select', { nested: [S('drop')] })] });
    expect(decide(e, deep).action).toBe('deny');
  });

  it('with no statement at all only match rules without statement conditions', () => {
    const e = engine([
      { id: 'kinds', action: 'deny', sql: { kinds: ['select'] } },
      { id: 'any', action: 'review', sql: {} },
    ]);
    expect(decide(e).ruleId).toBe('any');
  });
});
