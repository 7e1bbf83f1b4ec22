import { beforeAll, describe, expect, it } from 'vitest';
import { createSqlAnalyzer, initSqlAnalyzer } from '../sql/index.js';
import { analyzeLineage, analyzeLineageByStatement, createLineageAnalyzer } from './lineage-analyzer.js';
import type { ColumnLineage } from './lineage-types.js';

beforeAll(async () => {
  await initSqlAnalyzer();
});

function columns(sql: string): readonly ColumnLineage[] {
  const lineage = analyzeLineage(sql);
  expect(lineage?.opaque).toBe(false);
  return lineage?.columns ?? [];
}

/** [sql, name of the first column, sources it must include] */
const DERIVED: Array<[string, string, string[]]> = [
  ['SELECT email::text FROM users', 'email', ['users.email']],
  ['SELECT CAST(email AS varchar(10)) FROM users', 'email', ['users.email']],
  ['SELECT upper(email) FROM users', 'upper', ['users.email']],
  ["SELECT 'x' || email FROM users", '?column?', ['users.email']],
  ['SELECT substr(email, 1, 3) FROM users', 'substr', ['users.email']],
  ["SELECT coalesce(email, '') FROM users", 'coalesce', ['users.email']],
  ['SELECT (SELECT email FROM users LIMIT 1)', 'email', ['users.email']],
  ['SELECT ARRAY(SELECT email FROM users)', 'array', ['users.email']],
  ['WITH t AS (SELECT email AS e FROM users) SELECT e FROM t', 'e', ['users.email']],
  ['WITH t(x) AS (SELECT email FROM users) SELECT upper(x) FROM t', 'upper', ['users.email']],
  ['SELECT e FROM (SELECT lower(u.email) AS e FROM users u) s', 'e', ['users.email']],
  ['SELECT s.e FROM (SELECT email AS e FROM users) AS s', 'e', ['users.email']],
  ['SELECT row_to_json(u) FROM users u', 'row_to_json', ['users.*']],
  ['SELECT json_agg(u) FROM users u', 'json_agg', ['users.*']],
  ['SELECT to_jsonb(u.*) FROM users u', 'to_jsonb', ['users.*']],
  ['SELECT u::text FROM users u', 'u', ['users.*']],
  ['SELECT ROW(u.email, u.id) FROM users u', 'row', ['users.email', 'users.id']],
  ['SELECT email AS contact FROM users', 'contact', ['users.email']],
  ["SELECT string_agg(email, ',') FROM users", 'string_agg', ['users.email']],
  ["SELECT format('%s', email) FROM users", 'format', ['users.email']],
  ["SELECT encode(convert_to(email, 'UTF8'), 'base64') FROM users", 'encode', ['users.email']],
  ["SELECT CASE WHEN email LIKE '%@x.com' THEN 'x' ELSE 'y' END FROM users", 'case', ['users.email']],
  ['SELECT CASE WHEN true THEN email END FROM users', 'case', ['users.email']],
  ['SELECT greatest(email, name) FROM users', 'greatest', ['users.email', 'users.name']],
  ['SELECT (u).email FROM users u', 'email', ['users.email']],
  ["SELECT row_to_json(u)->>'email' FROM users u", '?column?', ['users.email']],
  ["SELECT to_jsonb(u) -> 'email' FROM users u", '?column?', ['users.email']],
  ['SELECT u.email FROM users u JOIN orders o ON o.user_id = u.id', 'email', ['users.email']],
  [
    'SELECT x FROM (SELECT email FROM users UNION ALL SELECT name FROM people) AS t(x)',
    'x',
    ['users.email', 'people.name'],
  ],
  ['SELECT email FROM users UNION SELECT phone FROM contacts', 'email', ['users.email', 'contacts.phone']],
  ['SELECT column1 FROM (VALUES (1), (2)) v UNION SELECT email FROM users', 'column1', ['users.email']],
  ['SELECT e FROM unnest(ARRAY(SELECT email FROM users)) AS t(e)', 'e', ['users.email']],
  ['SELECT t.a FROM users u, jsonb_to_record(u.profile) AS t(a text)', 'a', ['users.profile']],
  ['SELECT first_value(email) OVER (ORDER BY id) FROM users', 'first_value', ['users.email']],
  ['SELECT (SELECT o.note FROM orders o WHERE o.user_id = u.id) FROM users u', 'note', ['orders.note']],
  ['SELECT public.users.email FROM public.users', 'email', ['public.users.email']],
  [
    'WITH RECURSIVE t(x, n) AS (SELECT email, 1 FROM users UNION ALL SELECT x, n + 1 FROM t WHERE n < 3) SELECT x FROM t',
    'x',
    ['users.email'],
  ],
  [
    'WITH a AS (SELECT email FROM users), b AS (SELECT email AS m FROM a) SELECT m FROM b',
    'm',
    ['users.email'],
  ],
  ['SELECT xmlelement(name e, email) FROM users', 'xmlelement', ['users.email']],
  ["SELECT jsonb_build_object('k', email) FROM users", 'jsonb_build_object', ['users.email']],
  ['SELECT email COLLATE "C" FROM users', 'email', ['users.email']],
];

describe('lineage through expressions', () => {
  it.each(DERIVED)('%s', (sql, name, sources) => {
    const [first] = columns(sql);
    expect(first?.name).toBe(name);
    for (const s of sources) expect(first?.sources).toContain(s);
  });

  it('leaves count(), ORDER BY inside aggregates and EXISTS out', () => {
    const cols = columns(
      "SELECT count(email), string_agg(name, ',' ORDER BY email), EXISTS (SELECT 1 FROM users WHERE email = 'a') FROM users",
    );
    expect(cols[0]?.sources).toEqual([]);
    expect(cols[1]?.sources).toEqual(['users.name']);
    expect(cols[2]?.sources).toEqual([]);
  });

  it('keeps unrelated columns apart', () => {
    const cols = columns('SELECT id, upper(name), email FROM users');
    expect(cols.map((c) => c.sources)).toEqual([['users.id'], ['users.name'], ['users.email']]);
  });

  it('gives the per-field lineage of rows of subqueries and CTEs', () => {
    const [col] = columns('SELECT row_to_json(t) FROM (SELECT email AS e, id FROM users) t');
    expect(col?.sources).toEqual([]);
    expect(col?.fields).toEqual({ e: ['users.email'], id: ['users.id'] });
    const [cte] = columns('WITH t AS (SELECT email AS contact FROM users) SELECT json_agg(t) FROM t');
    expect(cte?.fields).toEqual({ contact: ['users.email'] });
  });
});

describe('star expansion', () => {
  it('marks `*` over a table as an expansion', () => {
    expect(columns('SELECT * FROM users')).toEqual([
      { name: undefined, sources: ['users.*'], expands: 'users' },
    ]);
    const cols = columns('SELECT id, u.*, upper(o.note) AS n FROM users u JOIN orders o ON true');
    expect(cols.map((c) => c.expands ?? c.name)).toEqual(['id', 'users', 'n']);
  });

  it('expands `*` over subqueries and CTEs into their columns', () => {
    const cols = columns('WITH t AS (SELECT email AS e, upper(name) AS n FROM users) SELECT * FROM t');
    expect(cols).toEqual([
      { name: 'e', sources: ['users.email'] },
      { name: 'n', sources: ['users.name'] },
    ]);
    const nested = columns('SELECT s.* FROM (SELECT * FROM users) s');
    expect(nested).toEqual([{ name: undefined, sources: ['users.*'], expands: 'users' }]);
  });

  it('names columns of a subquery over `*` by the table', () => {
    expect(columns('SELECT a FROM (SELECT * FROM users) s')[0]?.sources).toEqual(['users.a']);
  });
});

describe('statements other than SELECT', () => {
  it('follows RETURNING, with the values written by INSERT and UPDATE', () => {
    const ins = columns('INSERT INTO t (a, b) SELECT email, 1 FROM users RETURNING a, b, *');
    expect(ins[0]?.sources).toEqual(expect.arrayContaining(['users.email', 't.a']));
    expect(ins[1]?.sources).toEqual(['t.b']);
    expect(ins.slice(2)).toEqual([{ name: undefined, sources: ['t.*'], expands: 't' }]);
    const upd = columns('UPDATE t SET a = u.email FROM users u WHERE u.id = t.id RETURNING a');
    expect(upd[0]?.sources).toEqual(expect.arrayContaining(['users.email', 't.a']));
    const del = columns('DELETE FROM users RETURNING email AS gone');
    expect(del).toEqual([{ name: 'gone', sources: ['users.email'] }]);
    expect(analyzeLineage('INSERT INTO t VALUES (1)')?.columns).toBeUndefined();
  });

  it('reads COPY: the query or the table, and the data format', () => {
    const q = analyzeLineage(
      "COPY (SELECT upper(email) FROM users) TO STDOUT WITH (FORMAT csv, HEADER, NULL '')",
    );
    expect(q?.columns).toEqual([{ name: 'upper', sources: ['users.email'] }]);
    expect(q?.copy).toEqual({
      format: 'csv',
      delimiter: ',',
      null: '',
      quote: '"',
      escape: '"',
      header: true,
    });
    const t = analyzeLineage('COPY users (id, email) TO STDOUT');
    expect(t?.columns?.map((c) => c.name)).toEqual(['id', 'email']);
    expect(t?.copy).toMatchObject({
      format: 'text',
      delimiter: '\t',
      null: '\\N',
      header: false,
      table: 'users',
    });
    expect(analyzeLineage('COPY users TO STDOUT (FORMAT binary)')?.copy?.format).toBe('binary');
    expect(analyzeLineage("COPY users TO STDOUT WITH (DELIMITER '|', HEADER false)")?.copy).toMatchObject({
      delimiter: '|',
      header: false,
    });
    expect(analyzeLineage('COPY users FROM STDIN')?.copy).toBeUndefined();
  });

  it('names cursors and prepared statements for the relay to keep', () => {
    expect(analyzeLineage('DECLARE c CURSOR FOR SELECT email FROM users')).toMatchObject({
      declares: { kind: 'cursor', name: 'c' },
      columns: [{ name: 'email', sources: ['users.email'] }],
    });
    expect(analyzeLineage('FETCH 10 FROM c')).toMatchObject({ uses: { kind: 'cursor', name: 'c' } });
    expect(analyzeLineage('PREPARE p AS SELECT upper(email) FROM users')?.declares).toEqual({
      kind: 'prepared',
      name: 'p',
    });
    expect(analyzeLineage('EXECUTE p')?.uses).toEqual({ kind: 'prepared', name: 'p' });
  });

  it('answers per statement and undefined for text that does not parse', () => {
    const all = analyzeLineageByStatement('SELECT email FROM users; SHOW work_mem; SELECT 1 AS one');
    expect(all?.map((s) => s.columns?.map((c) => c.name))).toEqual([['email'], undefined, ['one']]);
    expect(analyzeLineage('SELEC 1')).toBeUndefined();
    expect(analyzeLineage('SELECT 1 INTO t')?.columns).toBeUndefined();
  });

  it('gives up on hostile nesting with an opaque answer, never a crash', () => {
    const deep = `SELECT ${'(SELECT '.repeat(400)}email${' FROM users)'.repeat(400)}`;
    expect(analyzeLineage(deep)).toEqual({ columns: undefined, opaque: true });
    const chain = `SELECT ${Array.from({ length: 5000 }, () => 'email').join(' || ')} FROM users`;
    expect(columns(chain)[0]?.sources).toEqual(['users.email']);
  });

  it('caches by text', () => {
    const analyzer = createLineageAnalyzer({ cacheSize: 2 });
    const a = analyzer.analyze('SELECT email FROM users');
    expect(analyzer.analyze('SELECT email FROM users')).toBe(a);
  });

  it('shares lineage between texts of one shape unless a literal decided it', () => {
    const sql = createSqlAnalyzer();
    const lineage = createLineageAnalyzer();
    const shaped = (text: string) => {
      const analysis = sql.analyze(text);
      return lineage.analyze(text, analysis.ok ? analysis.shape : undefined);
    };
    const byId = (id: number) => `SELECT email, id FROM users WHERE id = ${id}`;
    shaped(byId(1));
    const second = shaped(byId(2));
    expect(second?.[0]?.columns?.[0]?.sources).toEqual(['users.email']);
    expect(shaped(byId(3))).toBe(second);

    // A JSON key read from a literal names the column the value comes from.
    const field = (key: string) => `SELECT row_to_json(u)->>'${key}' AS v FROM users u WHERE id = 1`;
    shaped(field('id'));
    const name = shaped(field('name'))?.[0]?.columns?.[0]?.sources;
    expect(name).toContain('users.name');
    expect(name).not.toContain('users.id');
    expect(shaped(field('email'))?.[0]?.columns?.[0]?.sources).toContain('users.email');

    // COPY's format comes from its options' literals.
    const copy = (d: string) =>
      `COPY (SELECT email FROM users) TO STDOUT WITH (FORMAT csv, DELIMITER '${d}')`;
    shaped(copy(';'));
    expect(shaped(copy('|'))?.[0]?.copy?.delimiter).toBe('|');
    expect(shaped(copy(','))?.[0]?.copy?.delimiter).toBe(',');
  });
});
