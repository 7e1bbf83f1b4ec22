import { sqlStatement as S, type SqlStatementFacts } from '@gatehouse/policy';
import { beforeAll, describe, expect, it } from 'vitest';

import { analyzeSql, initSqlAnalyzer } from './sql-analyzer.js';

beforeAll(async () => {
  await initSqlAnalyzer();
});

type Case = readonly [sql: string, expected: readonly SqlStatementFacts[]];

const W = { modifiesData: true } as const;

function facts(sql: string): readonly SqlStatementFacts[] {
  const result = analyzeSql(sql);
  if (!result.ok) throw new Error(`${sql}: ${result.error}`);
  return result.statements;
}

function table(name: string, cases: readonly Case[]): void {
  describe(name, () => {
    it.each(cases)('%s', (sql, expected) => {
      expect(facts(sql)).toEqual(expected);
    });
  });
}

table('simple CRUD', [
  ['SELECT * FROM users WHERE id = 1', [S('select', { tables: ['users'] })]],
  ['INSERT INTO orders (id, total) VALUES (1, 2.5)', [S('insert', { tables: ['orders'], ...W })]],
  ['UPDATE orders SET total = 0 WHERE id = 1', [S('update', { tables: ['orders'], hasWhere: true, ...W })]],
  ['UPDATE orders SET total = 0', [S('update', { tables: ['orders'], hasWhere: false, ...W })]],
  ['DELETE FROM orders WHERE id = 1', [S('delete', { tables: ['orders'], hasWhere: true, ...W })]],
  ['DELETE FROM orders', [S('delete', { tables: ['orders'], hasWhere: false, ...W })]],
  ['DELETE FROM orders WHERE CURRENT OF c', [S('delete', { tables: ['orders'], hasWhere: true, ...W })]],
  [
    'UPDATE orders SET total = 1 WHERE CURRENT OF c',
    [S('update', { tables: ['orders'], hasWhere: true, ...W })],
  ],
  [
    'INSERT INTO audit SELECT * FROM orders RETURNING now()',
    [S('insert', { tables: ['audit', 'orders'], functions: ['now'], ...W })],
  ],
  [
    'INSERT INTO t (a) VALUES (lower($1)) ON CONFLICT (a) DO UPDATE SET a = upper(excluded.a)',
    [S('insert', { tables: ['t'], functions: ['lower', 'upper'], ...W })],
  ],
  ['VALUES (1, abs(-1))', [S('select', { functions: ['abs'] })]],
  ['TABLE orders', [S('select', { tables: ['orders'] })]],
  ['SELECT 1', [S('select')]],
]);

table('joins and subqueries', [
  [
    'SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id ' +
      'LEFT JOIN (SELECT * FROM refunds) r ON r.order_id = o.id ' +
      'WHERE o.id IN (SELECT order_id FROM order_lines) ' +
      'AND EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id)',
    [S('select', { tables: ['orders', 'customers', 'refunds', 'order_lines', 'payments'] })],
  ],
  [
    'SELECT * FROM users u, LATERAL (SELECT count(*) FROM orders WHERE user_id = u.id) x',
    [S('select', { tables: ['users', 'orders'], functions: ['count'] })],
  ],
  [
    'SELECT (SELECT max(total) FROM orders), lower(name) FROM users',
    [S('select', { tables: ['orders', 'users'], functions: ['max', 'lower'] })],
  ],
  [
    'SELECT a FROM x UNION SELECT b FROM y EXCEPT (SELECT c FROM z)',
    [S('select', { tables: ['x', 'y', 'z'] })],
  ],
  ['SELECT * FROM generate_series(1, 3) g', [S('select', { functions: ['generate_series'] })]],
  ['SELECT * FROM orders o FOR UPDATE OF o', [S('select', { tables: ['orders'] })]],
  ['SELECT * FROM orders TABLESAMPLE bernoulli (10)', [S('select', { tables: ['orders'] })]],
]);

table('names as written', [
  [
    'SELECT * FROM billing.invoices JOIN "Users" ON true JOIN "My Schema"."Weird.Name" ON true JOIN db.s.t ON true',
    [S('select', { tables: ['billing.invoices', 'Users', 'My Schema."Weird.Name"', 'db.s.t'] })],
  ],
  ['SELECT * FROM USERS', [S('select', { tables: ['users'] })]],
  [
    'SELECT pg_catalog.lower(\'A\'), public."MyFn"(1)',
    [S('select', { functions: ['pg_catalog.lower', 'public.MyFn'] })],
  ],
  ['SELECT "名前" FROM 顧客 WHERE città = \'Zürich\'', [S('select', { tables: ['顧客'] })]],
  ['SELECT * FROM "Ünïcödé"."Tàblé"', [S('select', { tables: ['Ünïcödé.Tàblé'] })]],
  ['SELECT * FROM " padded "', [S('select', { tables: ['" padded "'] })]],
]);

table('CTE scoping', [
  ['WITH users AS (SELECT 1 AS id) SELECT * FROM users', [S('select')]],
  // Inside its own definition a non-recursive CTE's name is the real table.
  [
    'WITH users AS (SELECT * FROM users WHERE active) SELECT * FROM users',
    [S('select', { tables: ['users'] })],
  ],
  [
    'WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 10) SELECT * FROM t',
    [S('select')],
  ],
  ['WITH a AS (SELECT 1), b AS (SELECT * FROM a) SELECT * FROM b', [S('select')]],
  // Without RECURSIVE a later CTE is not visible in an earlier one.
  ['WITH b AS (SELECT * FROM a), a AS (SELECT 1) SELECT * FROM b', [S('select', { tables: ['a'] })]],
  ['WITH RECURSIVE b AS (SELECT * FROM a), a AS (SELECT 1) SELECT * FROM b', [S('select')]],
  // The WITH of a subquery ends with it.
  [
    'SELECT * FROM (WITH users AS (SELECT 1) SELECT * FROM users) x JOIN users ON true',
    [S('select', { tables: ['users'] })],
  ],
  ['WITH c AS (SELECT 1) SELECT * FROM t WHERE EXISTS (SELECT 1 FROM c)', [S('select', { tables: ['t'] })]],
  ['WITH users AS (SELECT 1) SELECT * FROM public.users', [S('select', { tables: ['public.users'] })]],
  ['WITH x AS (SELECT 1) SELECT 1 UNION SELECT * FROM x', [S('select')]],
  ['(WITH x AS (SELECT 1) SELECT * FROM x) UNION SELECT * FROM x', [S('select', { tables: ['x'] })]],
  // A DML target and a SELECT INTO target are tables even when a CTE has the name.
  ['WITH users AS (SELECT 1) DELETE FROM users', [S('delete', { tables: ['users'], hasWhere: false, ...W })]],
  [
    'WITH users AS (SELECT 1) SELECT * INTO users FROM users',
    [S('create_table_as', { tables: ['users'], ...W })],
  ],
  [
    'WITH x AS (SELECT id FROM staging) INSERT INTO target SELECT * FROM x',
    [S('insert', { tables: ['staging', 'target'], ...W })],
  ],
  [
    'WITH s AS (SELECT * FROM staging) UPDATE accounts a SET b = s.b FROM s WHERE a.id = s.id',
    [S('update', { tables: ['staging', 'accounts'], hasWhere: true, ...W })],
  ],
  [
    'WITH s AS (SELECT * FROM staging) DELETE FROM accounts USING s WHERE accounts.id = s.id',
    [S('delete', { tables: ['staging', 'accounts'], hasWhere: true, ...W })],
  ],
]);

const deleteT = S('delete', { tables: ['t'], hasWhere: false, ...W });

table('data-modifying CTEs', [
  [
    'WITH d AS (DELETE FROM orders WHERE created < now() RETURNING *) INSERT INTO archive SELECT * FROM d',
    [
      S('insert', {
        tables: ['orders', 'archive'],
        functions: ['now'],
        ...W,
        nested: [S('delete', { tables: ['orders'], functions: ['now'], hasWhere: true, ...W })],
      }),
    ],
  ],
  [
    'WITH a AS (WITH b AS (DELETE FROM t RETURNING id) SELECT * FROM b) SELECT * FROM a',
    [S('select', { tables: ['t'], ...W, nested: [deleteT] })],
  ],
  [
    'SELECT * FROM (WITH u AS (UPDATE accounts SET balance = 0 RETURNING id) SELECT * FROM u) s',
    [
      S('select', {
        tables: ['accounts'],
        ...W,
        nested: [S('update', { tables: ['accounts'], hasWhere: false, ...W })],
      }),
    ],
  ],
  [
    'WITH d AS (WITH e AS (INSERT INTO log VALUES (1) RETURNING 1) DELETE FROM t RETURNING 1) SELECT 1',
    [
      S('select', {
        tables: ['log', 't'],
        ...W,
        nested: [
          S('delete', { tables: ['log', 't'], hasWhere: false, ...W }),
          S('insert', { tables: ['log'], ...W }),
        ],
      }),
    ],
  ],
  [
    'WITH m AS (MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE RETURNING t.id) SELECT * FROM m',
    [S('select', { tables: ['t', 's'], ...W, nested: [S('merge', { tables: ['t', 's'], ...W })] })],
  ],
]);

table('several statements', [
  ['SELECT 1; DROP TABLE x', [S('select'), S('drop', { tables: ['x'] })]],
  [
    'BEGIN; UPDATE t SET a = 1; COMMIT;',
    [S('transaction'), S('update', { tables: ['t'], hasWhere: false, ...W }), S('transaction')],
  ],
  ['SELECT 1;;SELECT 2', [S('select'), S('select')]],
]);

table('MERGE', [
  [
    'MERGE INTO accounts a USING staging s ON a.id = s.id WHEN MATCHED THEN UPDATE SET balance = s.balance ' +
      'WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.balance)',
    [S('merge', { tables: ['accounts', 'staging'], ...W })],
  ],
  [
    'WITH s AS (SELECT * FROM staging) MERGE INTO accounts USING s ON accounts.id = s.id WHEN MATCHED THEN DELETE',
    [S('merge', { tables: ['staging', 'accounts'], ...W })],
  ],
]);

table('COPY', [
  ['COPY orders TO STDOUT', [S('copy', { tables: ['orders'] })]],
  ['COPY orders (id, total) FROM STDIN WITH (FORMAT csv)', [S('copy', { tables: ['orders'], ...W })]],
  ["COPY orders FROM '/tmp/x.csv'", [S('copy', { tables: ['orders'], ...W, readsServerFiles: true })]],
  ["COPY orders TO '/tmp/x.csv'", [S('copy', { tables: ['orders'], writesServerFiles: true })]],
  // The parse tree leaves out the empty name; PostgreSQL still tries to open a file.
  ["COPY orders FROM ''", [S('copy', { tables: ['orders'], ...W, readsServerFiles: true })]],
  ["COPY (SELECT 1 FROM x) TO ''", [S('copy', { tables: ['x'], writesServerFiles: true })]],
  ["COPY orders (a, b) FROM PROGRAM ''", [S('copy', { tables: ['orders'], ...W, copyProgram: true })]],
  ['COPY orders (a, b) FROM stdin', [S('copy', { tables: ['orders'], ...W })]],
  ["COPY orders TO PROGRAM 'gzip > /tmp/x.gz'", [S('copy', { tables: ['orders'], copyProgram: true })]],
  ["COPY orders FROM PROGRAM 'curl http://x'", [S('copy', { tables: ['orders'], ...W, copyProgram: true })]],
  ['COPY (SELECT * FROM orders JOIN users ON true) TO STDOUT', [S('copy', { tables: ['orders', 'users'] })]],
  [
    'COPY (DELETE FROM orders RETURNING *) TO STDOUT',
    [
      S('copy', {
        tables: ['orders'],
        ...W,
        nested: [S('delete', { tables: ['orders'], hasWhere: false, ...W })],
      }),
    ],
  ],
  [
    'COPY orders FROM STDIN WHERE total > abs(1)',
    [S('copy', { tables: ['orders'], functions: ['abs'], ...W })],
  ],
]);

table('server files', [
  [
    "SELECT pg_read_file('/etc/passwd')",
    [S('select', { functions: ['pg_read_file'], readsServerFiles: true })],
  ],
  ["SELECT * FROM pg_ls_dir('.')", [S('select', { functions: ['pg_ls_dir'], readsServerFiles: true })]],
  ["SELECT lo_import('/etc/passwd')", [S('select', { functions: ['lo_import'], readsServerFiles: true })]],
  ["SELECT lo_export(1234, '/tmp/x')", [S('select', { functions: ['lo_export'], writesServerFiles: true })]],
  [
    "SELECT pg_catalog.pg_read_binary_file('x'), pg_stat_file('y')",
    [S('select', { functions: ['pg_catalog.pg_read_binary_file', 'pg_stat_file'], readsServerFiles: true })],
  ],
  [
    "SELECT * FROM t WHERE a = (SELECT PG_READ_FILE('x'))",
    [S('select', { tables: ['t'], functions: ['pg_read_file'], readsServerFiles: true })],
  ],
]);

const setRole = (via?: string) => S('set_role', { functions: via === undefined ? [] : [via] });
const setAuth = (via?: string) =>
  S('set_session_authorization', { functions: via === undefined ? [] : [via] });

table('role switching', [
  ['SET ROLE admin', [S('set_role')]],
  ["SET LOCAL ROLE 'admin'", [S('set_role')]],
  ['SET SESSION ROLE NONE', [S('set_role')]],
  ['SET role = DEFAULT', [S('set_role')]],
  ['SET "ROLE" TO admin', [S('set_role')]],
  ['RESET ROLE', [S('reset_role')]],
  ["SET SESSION AUTHORIZATION 'bob'", [S('set_session_authorization')]],
  ['SET SESSION AUTHORIZATION DEFAULT', [S('set_session_authorization')]],
  ['RESET SESSION AUTHORIZATION', [S('reset_session_authorization')]],
  ['SET search_path = public', [S('set')]],
  ['RESET ALL', [S('reset')]],
  [
    "SELECT set_config('role', 'admin', false)",
    [S('select', { functions: ['set_config'], nested: [setRole('set_config')] })],
  ],
  [
    "SELECT pg_catalog.set_config('ROLE'::text, 'admin', true)",
    [S('select', { functions: ['pg_catalog.set_config'], nested: [setRole('pg_catalog.set_config')] })],
  ],
  [
    "SELECT set_config(is_local => false, setting_name => 'role', new_value => 'admin')",
    [S('select', { functions: ['set_config'], nested: [setRole('set_config')] })],
  ],
  [
    "SELECT set_config('session_authorization', 'bob', false)",
    [S('select', { functions: ['set_config'], nested: [setAuth('set_config')] })],
  ],
  ["SELECT set_config('search_path', 'x', false)", [S('select', { functions: ['set_config'] })]],
  [
    'SELECT set_config($1, $2, false)',
    [S('select', { functions: ['set_config'], nested: [setRole('set_config'), setAuth('set_config')] })],
  ],
  [
    "SELECT set_config(lower('ROLE'), 'admin', false)",
    [
      S('select', {
        functions: ['set_config', 'lower'],
        nested: [setRole('set_config'), setAuth('set_config')],
      }),
    ],
  ],
  [
    "UPDATE pg_settings SET setting = 'admin' WHERE name = 'role'",
    [S('update', { tables: ['pg_settings'], hasWhere: true, ...W, nested: [setRole(), setAuth()] })],
  ],
  // Plain EXPLAIN runs nothing.
  [
    "EXPLAIN SELECT set_config('role', 'x', false)",
    [S('explain', { functions: ['set_config'], analyze: false })],
  ],
]);

table('EXPLAIN', [
  [
    'EXPLAIN ANALYZE DELETE FROM t',
    [S('explain', { tables: ['t'], ...W, analyze: true, nested: [deleteT] })],
  ],
  [
    'EXPLAIN (ANALYZE, BUFFERS) UPDATE t SET a = 1 WHERE id = 2',
    [
      S('explain', {
        tables: ['t'],
        ...W,
        analyze: true,
        nested: [S('update', { tables: ['t'], hasWhere: true, ...W })],
      }),
    ],
  ],
  [
    'EXPLAIN (ANALYZE true) DELETE FROM t',
    [S('explain', { tables: ['t'], ...W, analyze: true, nested: [deleteT] })],
  ],
  ['EXPLAIN (ANALYZE off) DELETE FROM t', [S('explain', { tables: ['t'], analyze: false })]],
  ['EXPLAIN (ANALYZE 0) DELETE FROM t', [S('explain', { tables: ['t'], analyze: false })]],
  ['EXPLAIN DELETE FROM t', [S('explain', { tables: ['t'], analyze: false })]],
  [
    'EXPLAIN WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d',
    [S('explain', { tables: ['t'], analyze: false })],
  ],
  [
    'EXPLAIN ANALYZE SELECT * FROM t',
    [S('explain', { tables: ['t'], analyze: true, nested: [S('select', { tables: ['t'] })] })],
  ],
]);

table('PREPARE and EXECUTE', [
  [
    'PREPARE p(int) AS DELETE FROM t WHERE id = $1',
    [S('prepare', { tables: ['t'], nested: [S('delete', { tables: ['t'], hasWhere: true, ...W })] })],
  ],
  ['EXECUTE p(1)', [S('execute')]],
  ['DEALLOCATE p', [S('deallocate')]],
  [
    'PREPARE q AS WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d',
    [S('prepare', { tables: ['t'], nested: [S('select', { tables: ['t'], ...W }), deleteT] })],
  ],
]);

table('opaque code: DO blocks and function bodies', [
  ["DO $$BEGIN EXECUTE 'DROP TABLE x'; END$$", [S('do')]],
  ['DO LANGUAGE plpgsql $$ BEGIN DELETE FROM t; END $$', [S('do')]],
  // A SQL body in a string is parsed as PostgreSQL parses it when the function runs.
  [
    'CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ DELETE FROM t RETURNING 1 $$',
    [S('create_function', { tables: ['t'], nested: [deleteT] })],
  ],
  [
    "CREATE OR REPLACE PROCEDURE p() AS 'SELECT 1; DROP TABLE t' LANGUAGE 'SQL'",
    [S('create_function', { tables: ['t'], nested: [S('select'), S('drop', { tables: ['t'] })] })],
  ],
  [
    "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS E'DELETE FROM t RETURNING \\'x\\' = \\'x\\''",
    [S('create_function', { tables: ['t'], nested: [deleteT] })],
  ],
  ["CREATE FUNCTION f() RETURNS void LANGUAGE sql AS ''", [S('create_function')]],
  // Bodies the gateway cannot read are DO blocks stored for later.
  [
    "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'DROP TABLE t'; END $$",
    [S('create_function', { nested: [S('do')] })],
  ],
  [
    "CREATE FUNCTION f() RETURNS void LANGUAGE sql AS 'SELEC 1'",
    [S('create_function', { nested: [S('do')] })],
  ],
  [
    "CREATE FUNCTION f(int) RETURNS int LANGUAGE c AS 'mylib', 'f'",
    [S('create_function', { nested: [S('do')] })],
  ],
  ["CREATE FUNCTION f() RETURNS int AS 'SELECT 1'", [S('create_function', { nested: [S('do')] })]],
  // SET clauses apply whenever the function runs.
  [
    "CREATE FUNCTION f() RETURNS text LANGUAGE sql SET role = 'admin' AS 'SELECT current_user'",
    [S('create_function', { nested: [setRole(), S('select')] })],
  ],
  ["ALTER FUNCTION f() SET role = 'admin'", [S('alter_function', { nested: [setRole()] })]],
  ['ALTER FUNCTION f() SET search_path = public', [S('alter_function', { nested: [S('set')] })]],
  [
    'CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC DELETE FROM t; SELECT 1; END',
    [S('create_function', { tables: ['t'], nested: [deleteT, S('select')] })],
  ],
  [
    'CREATE FUNCTION g(a int DEFAULT now_int()) RETURNS int RETURN h(a)',
    [S('create_function', { functions: ['now_int', 'h'] })],
  ],
  [
    'CREATE RULE r AS ON INSERT TO orders DO ALSO (DELETE FROM audit; NOTIFY changes)',
    [
      S('create_rule', {
        tables: ['orders', 'audit'],
        nested: [S('delete', { tables: ['audit'], hasWhere: false, ...W }), S('notify')],
      }),
    ],
  ],
  [
    'CREATE TRIGGER tr AFTER INSERT ON orders FOR EACH ROW WHEN (NEW.total > 0) EXECUTE FUNCTION audit_fn()',
    [S('create_trigger', { tables: ['orders'] })],
  ],
]);

table('privileges', [
  [
    'GRANT SELECT, UPDATE ON orders, billing.invoices TO agent',
    [S('grant', { tables: ['orders', 'billing.invoices'] })],
  ],
  ['REVOKE ALL ON ALL TABLES IN SCHEMA public FROM agent', [S('revoke')]],
  ['GRANT admin TO agent', [S('grant_role')]],
  ['REVOKE admin FROM agent', [S('revoke_role')]],
  ['ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO agent', [S('alter_default_privileges')]],
]);

table('DDL and maintenance', [
  [
    'TRUNCATE orders, public.order_lines RESTART IDENTITY',
    [S('truncate', { tables: ['orders', 'public.order_lines'], ...W })],
  ],
  ['DROP TABLE IF EXISTS a, s.b CASCADE', [S('drop', { tables: ['a', 's.b'] })]],
  ['DROP VIEW v; DROP MATERIALIZED VIEW m', [S('drop', { tables: ['v'] }), S('drop', { tables: ['m'] })]],
  ['DROP INDEX i', [S('drop')]],
  ['DROP FUNCTION f(int)', [S('drop')]],
  [
    'ALTER TABLE orders ADD COLUMN note text DEFAULT gen_note(), ADD CONSTRAINT fk FOREIGN KEY (c) REFERENCES customers (id)',
    [S('alter_table', { tables: ['orders', 'customers'], functions: ['gen_note'] })],
  ],
  ['LOCK TABLE orders IN ACCESS EXCLUSIVE MODE', [S('lock', { tables: ['orders'] })]],
  [
    'CREATE TABLE archive AS SELECT * FROM orders',
    [S('create_table_as', { tables: ['archive', 'orders'], ...W })],
  ],
  [
    'CREATE TABLE archive AS SELECT * FROM orders WITH NO DATA',
    [S('create_table_as', { tables: ['archive', 'orders'] })],
  ],
  ['SELECT * INTO archive FROM orders', [S('create_table_as', { tables: ['archive', 'orders'], ...W })]],
  [
    "CREATE TABLE t (id int DEFAULT nextval('s'), c int REFERENCES parent (id), LIKE tmpl)",
    [S('create_table', { tables: ['t', 'parent', 'tmpl'], functions: ['nextval'] })],
  ],
  ['CREATE VIEW v AS SELECT * FROM orders', [S('create_view', { tables: ['v', 'orders'] })]],
  [
    'CREATE INDEX ON orders (lower(email)) WHERE deleted IS NULL',
    [S('create_index', { tables: ['orders'], functions: ['lower'] })],
  ],
  ["COMMENT ON TABLE orders IS 'x'", [S('comment', { tables: ['orders'] })]],
  ["COMMENT ON COLUMN s.t.c IS 'x'", [S('comment', { tables: ['s.t'] })]],
  ["COMMENT ON FUNCTION f(int) IS 'x'", [S('comment')]],
  ['CREATE SEQUENCE s', [S('create_sequence')]],
  ['CREATE TYPE pair AS (a int, b int)', [S('create_type')]],
  ["CALL archive_orders(now() - interval '1 day')", [S('call', { functions: ['archive_orders', 'now'] })]],
  ['VACUUM ANALYZE orders', [S('vacuum', { tables: ['orders'] })]],
  ['ANALYZE orders', [S('analyze', { tables: ['orders'] })]],
  ['REFRESH MATERIALIZED VIEW mv', [S('refresh_materialized_view', { tables: ['mv'], ...W })]],
  ['REFRESH MATERIALIZED VIEW mv WITH NO DATA', [S('refresh_materialized_view', { tables: ['mv'] })]],
  ['ALTER TABLE orders RENAME TO orders_old', [S('rename', { tables: ['orders'] })]],
  ['VACUUM (ANALYZE) orders', [S('vacuum', { tables: ['orders'] })]],
  ['ALTER TABLE orders SET SCHEMA archive', [S('alter_object_schema', { tables: ['orders'] })]],
]);

table('comments and odd spacing', [
  ['DELETE/**/FROM t', [deleteT]],
  [
    '/* leading */ -- line\n\tUPDATE\n t\tSET a=1 -- trailing',
    [S('update', { tables: ['t'], hasWhere: false, ...W })],
  ],
  ['SELECT 1 /* ; DROP TABLE x */', [S('select')]],
  ['SELECT 1 /* nested /* ; DROP TABLE x */ still comment */', [S('select')]],
  ["SELECT ';DROP TABLE x'", [S('select')]],
  ['SELECT $$; DROP TABLE x$$', [S('select')]],
  ['SELECT $a$ $$; DROP TABLE x $a$', [S('select')]],
  ["SELECT E'\\'; DROP TABLE x; --'", [S('select')]],
  ['dElEtE fRoM "t"', [deleteT]],
  ['\fSELECT\v1\r\n', [S('select')]],
]);

table('pgbench', [
  [
    'SELECT abalance FROM pgbench_accounts WHERE aid = 48213;',
    [S('select', { tables: ['pgbench_accounts'] })],
  ],
  [
    'UPDATE pgbench_accounts SET abalance = abalance + -4123 WHERE aid = 77123;',
    [S('update', { tables: ['pgbench_accounts'], hasWhere: true, ...W })],
  ],
  [
    'UPDATE pgbench_tellers SET tbalance = tbalance + -4123 WHERE tid = 3;',
    [S('update', { tables: ['pgbench_tellers'], hasWhere: true, ...W })],
  ],
  [
    'INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (3, 1, 77123, -4123, CURRENT_TIMESTAMP);',
    [S('insert', { tables: ['pgbench_history'], ...W })],
  ],
]);

describe('facts objects', () => {
  it('are frozen, so a consumer cannot corrupt what a cache shares', () => {
    const [statement] = facts('WITH d AS (DELETE FROM t RETURNING 1) SELECT * FROM d');
    expect(Object.isFrozen(statement)).toBe(true);
    expect(Object.isFrozen(statement?.tables)).toBe(true);
    expect(Object.isFrozen(statement?.nested)).toBe(true);
    expect(Object.isFrozen(statement?.nested?.[0])).toBe(true);
  });
});
