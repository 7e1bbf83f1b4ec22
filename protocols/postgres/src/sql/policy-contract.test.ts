/** The analyzer's facts, judged by the real policy engine: the contract seen from both ends. */
import type { Action, Identity, PolicyEngine } from '@gatehouse/core';
import { compilePolicy, postgresQuery, type RuleConfig } from '@gatehouse/policy';
import { beforeAll, describe, expect, it } from 'vitest';

import { createSqlAnalyzer, initSqlAnalyzer } from './sql-analyzer.js';

const identity: Identity = { subject: 'agent-1', groups: ['agents'], issuer: 'test' };

function engine(rules: RuleConfig[], defaultAction: Action = 'allow'): PolicyEngine {
  return compilePolicy({ connections: [{ name: 'pg', policy: { rules, defaultAction } }] });
}

const analyzer = createSqlAnalyzer();

function judge(e: PolicyEngine, sql: string): Action {
  const analysis = analyzer.analyze(sql);
  if (!analysis.ok) return 'deny';
  const command = postgresQuery(analysis.redactedText, analysis.statements);
  return e.decide({ connection: 'pg', identity, command }).action;
}

beforeAll(async () => {
  await initSqlAnalyzer();
});

describe('facts meet the policy engine', () => {
  it('deny rules see every statement, nested ones included', () => {
    const noDrop = engine([{ action: 'deny', sql: { kinds: ['drop'] } }]);
    expect(judge(noDrop, 'SELECT 1; DROP TABLE x')).toBe('deny');
    expect(judge(noDrop, 'SELECT 1; /* DROP TABLE x */')).toBe('allow');
    const noDelete = engine([{ action: 'deny', sql: { kinds: ['delete'] } }]);
    expect(judge(noDelete, 'WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d')).toBe('deny');
    expect(judge(noDelete, 'EXPLAIN ANALYZE DELETE FROM t')).toBe('deny');
    expect(judge(noDelete, 'PREPARE p AS DELETE FROM t')).toBe('deny');
    expect(judge(noDelete, 'COPY (DELETE FROM t RETURNING *) TO STDOUT')).toBe('deny');
    expect(judge(noDelete, 'EXPLAIN DELETE FROM t')).toBe('allow');
  });

  it('role switches are set_role however they are spelled', () => {
    const noSwitch = engine([{ action: 'deny', sql: { kinds: ['set_role', 'set_session_authorization'] } }]);
    for (const sql of [
      'SET ROLE admin',
      'set local role admin',
      "SET SESSION AUTHORIZATION 'postgres'",
      "SELECT set_config('role', 'admin', false)",
      "SELECT 1 FROM t WHERE pg_catalog.set_config('ROLE', 'admin', true) IS NOT NULL",
      'SELECT set_config($1, $2, false)',
      "UPDATE pg_settings SET setting = 'admin' WHERE name = 'role'",
    ]) {
      expect(judge(noSwitch, sql), sql).toBe('deny');
    }
    expect(judge(noSwitch, "SELECT set_config('search_path', 'app', false)")).toBe('allow');
    expect(judge(noSwitch, 'RESET ROLE')).toBe('allow');
  });

  it('a read-only allow list lets pgbench through and nothing that writes or reaches the server', () => {
    const readOnly = engine([{ action: 'allow', sql: { kinds: ['read', 'session'] } }], 'deny');
    expect(judge(readOnly, 'SELECT abalance FROM pgbench_accounts WHERE aid = 48213;')).toBe('allow');
    expect(judge(readOnly, 'SELECT abalance FROM pgbench_accounts WHERE aid = 7;')).toBe('allow');
    expect(judge(readOnly, 'BEGIN; SELECT 1; COMMIT')).toBe('allow');
    expect(judge(readOnly, 'COPY orders TO STDOUT')).toBe('allow');
    for (const sql of [
      'UPDATE pgbench_accounts SET abalance = 0 WHERE aid = 1',
      'WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d',
      "SELECT pg_read_file('/etc/passwd')",
      "COPY orders FROM ''",
      'SELECT * INTO copy_of_orders FROM orders',
      'EXPLAIN ANALYZE SELECT 1',
      'ANALYZE orders',
      'DO $$BEGIN END$$',
      'SELEC 1',
    ]) {
      expect(judge(readOnly, sql), sql).toBe('deny');
    }
  });

  it('tables are matched as written, CTE names excluded', () => {
    const noSecrets = engine([{ action: 'deny', sql: { tables: ['secrets'] } }]);
    expect(judge(noSecrets, 'SELECT * FROM "Secrets"')).toBe('deny');
    expect(judge(noSecrets, 'SELECT * FROM vault.secrets')).toBe('deny');
    expect(judge(noSecrets, 'SELECT * FROM t WHERE id IN (SELECT id FROM secrets)')).toBe('deny');
    expect(judge(noSecrets, 'WITH secrets AS (SELECT 1) SELECT * FROM secrets')).toBe('allow');
    expect(judge(noSecrets, 'WITH secrets AS (SELECT * FROM secrets) SELECT * FROM secrets')).toBe('deny');
  });

  it('UPDATE and DELETE without WHERE are told apart', () => {
    const review = engine([{ action: 'review', sql: { kinds: ['update', 'delete'], where: 'absent' } }]);
    expect(judge(review, 'DELETE FROM t')).toBe('review');
    expect(judge(review, 'DELETE/**/FROM t')).toBe('review');
    expect(judge(review, 'DELETE FROM t WHERE id = 1')).toBe('allow');
    expect(judge(review, 'DELETE FROM t WHERE CURRENT OF c')).toBe('allow');
    expect(judge(review, 'WITH x AS (UPDATE t SET a = 1 RETURNING 1) SELECT 1')).toBe('review');
  });
});
