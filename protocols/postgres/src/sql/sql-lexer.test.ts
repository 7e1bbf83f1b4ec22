import { beforeAll, describe, expect, it } from 'vitest';

import { loadPgParser, type PgParser } from './pg-parser.js';
import { lexerAgreesWithScanner } from './shape-check.js';
import { lexSql } from './sql-lexer.js';

const key = (sql: string) => lexSql(sql).shapeKey;

describe('shape keys', () => {
  it.each([
    [
      'SELECT abalance FROM pgbench_accounts WHERE aid = 48213',
      'SELECT abalance FROM pgbench_accounts WHERE aid = 7',
    ],
    ["SELECT * FROM t WHERE name = 'x'", "SELECT * FROM t WHERE name = 'it''s a longer é value'"],
    ["SELECT * FROM t WHERE name = E'x'", "SELECT * FROM t WHERE name = E'it''s'"],
    ['SELECT $$a$$', 'SELECT $f$b ; DROP TABLE x $$ $f$'],
    ['SELECT 1.5', 'SELECT 0.000001'],
    ['SELECT 1 /* one */', 'SELECT 2 /* two: different comment */'],
    ['SELECT 1 -- one', 'SELECT 2 -- two'],
    ["SELECT '--'", "SELECT '/*'"],
  ])('%s and %s share a shape', (a, b) => {
    expect(key(a)).toBeDefined();
    expect(key(a)).toBe(key(b));
  });

  it.each([
    ['SELECT * FROM a WHERE id = 1', 'SELECT * FROM b WHERE id = 1'],
    ['SELECT 1', 'SELECT 1.5'],
    ['SELECT 1', "SELECT '1'"],
    ['SELECT 123456789', 'SELECT 1234567890'],
    ['SELECT 1234567890', 'SELECT 1234567891'],
    ['SELECT 1e5', 'SELECT 2e5'],
    ['SELECT 0x1F', 'SELECT 0x2F'],
    ['SELECT 1_000', 'SELECT 2_000'],
    ['SELECT t.1', 'SELECT t.2'],
    ['SELECT .5', 'SELECT .6'],
    ['SELECT "a"', 'SELECT "b"'],
    ['SELECT $1', 'SELECT $2'],
    ["SELECT 'a'", "SELECT 'a';"],
    ["EXPLAIN (ANALYZE 'off') SELECT 1", 'EXPLAIN (ANALYZE off) SELECT 1'],
  ])('%s and %s do not', (a, b) => {
    expect(key(a)).not.toBe(key(b));
  });

  it.each([
    "SELECT E'a\\'b'",
    "SELECT U&'\\0041'",
    'SELECT U&"a"',
    "SELECT B'101'",
    "SELECT X'ff'",
    "SELECT N'x'",
    "SELECT 'a'\n'b'",
    "SELECT 'a' -- c\n'b'",
    "SELECT 'a' 'b'",
    "SELECT 'abc",
    'SELECT "abc',
    'SELECT $$abc',
    'SELECT 1 /* unterminated',
    'SELECT \\x',
    'SELECT $ 1',
  ])('%s has no shape', (sql) => {
    expect(key(sql)).toBeUndefined();
  });

  it('marks literals so that no text can forge a placeholder', () => {
    expect(key("SELECT 'a'")).toContain('\u0000');
  });
});

describe('nesting estimate', () => {
  const nesting = (sql: string) => lexSql(sql).nesting;

  it('stays small for ordinary statements', () => {
    expect(nesting('SELECT a, b FROM t WHERE x = 1 AND y = 2 ORDER BY a LIMIT 5')).toBeLessThan(20);
  });

  it('does not grow with lists, AND/OR chains, VALUES rows or CASE arms', () => {
    const rows = Array.from({ length: 5000 }, (_, i) => `(${i}, 'v${i}', now() - interval '1 day')`).join(
      ', ',
    );
    expect(nesting(`INSERT INTO t VALUES ${rows}`)).toBeLessThan(30);
    const ands = Array.from({ length: 5000 }, (_, i) => `c${i} = ${i}`).join(' AND ');
    expect(nesting(`SELECT * FROM t WHERE ${ands}`)).toBeLessThan(30);
    const arms = Array.from({ length: 5000 }, (_, i) => `WHEN ${i} THEN 'x'`).join(' ');
    expect(nesting(`SELECT CASE a ${arms} END FROM t`)).toBeLessThan(30);
    const inList = Array.from({ length: 50000 }, (_, i) => i).join(',');
    expect(nesting(`SELECT * FROM t WHERE id IN (${inList})`)).toBeLessThan(30);
  });

  it('grows with operator chains, NOT chains, set operations, joins and brackets', () => {
    expect(nesting(`SELECT 1${' || 1'.repeat(3000)}`)).toBeGreaterThan(3000);
    expect(nesting(`SELECT ${'NOT '.repeat(3000)}true`)).toBeGreaterThan(3000);
    expect(nesting(`SELECT 1, 2${' UNION SELECT 1, 2'.repeat(3000)}`)).toBeGreaterThan(3000);
    expect(nesting(`SELECT * FROM t0${' JOIN t ON true'.repeat(1000)}`)).toBeGreaterThan(3000);
    expect(nesting(`SELECT ${'f('.repeat(1000)}1${')'.repeat(1000)}`)).toBeGreaterThan(3000);
    expect(nesting(`SELECT ${'CASE WHEN a THEN '.repeat(1000)}1${' END'.repeat(1000)}`)).toBeGreaterThan(
      3000,
    );
  });

  it('takes the deepest statement of several', () => {
    expect(nesting(`SELECT 1; SELECT ${'NOT '.repeat(100)}true; SELECT 2`)).toBeGreaterThan(100);
  });
});

/** Statements whose shapes must agree with PostgreSQL's scanner. */
const CORPUS = [
  'SELECT abalance FROM pgbench_accounts WHERE aid = 48213;',
  'UPDATE pgbench_accounts SET abalance = abalance + -4123 WHERE aid = 77123;',
  'INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (3, 1, 77123, -4123, CURRENT_TIMESTAMP);',
  "SELECT * FROM t WHERE a = 'x' AND b = E'y' AND c = $$z$$ AND d = $q$w$q$ AND e = 1.5 AND f = 7",
  "SELECT 'it''s', 'a\\b', E'c''d', 'é😀', \"Quoted \"\"ident\"\"\" FROM \"Ünï\".t",
  'SELECT 1/**/+/* x */2 -- tail',
  'SELECT 1 /* nested /* deeper */ still */ + 2',
  'SELECT a-/**/-b, c*/*x*/d FROM t',
  'SELECT 2*-3, 4/-5, 6%-7, a<>-1, b!=-2, c<=-3',
  "SELECT x::int, y::text[], '1'::bigint, 1.0::numeric(10,2) FROM t",
  'SELECT t.a, t.*, $1, $12 FROM t WHERE a = $1',
  "SELECT 1 AS a, 2.50 AS b, 'three' AS c, 004 AS d\n;\n SELECT 5",
  'SELECT ARRAY[1,2,3][1:2], (1,2) = (1,2), a[1] FROM t',
  "COPY t FROM '/tmp/x' WITH (FORMAT csv, DELIMITER ';')",
  'SELECT e, E, b, x, n, u FROM ee, bb WHERE e1 = 1',
  "SELECT date'2020-01-01', interval'1 day', abc'x'",
  'SELECT 1.',
  'SELECT a$b, c$1 FROM t',
  "SELECT 'a'\t, 'b'\r, 'c'\f",
];

describe('agreement with PostgreSQL’s scanner', () => {
  let parser: PgParser;
  beforeAll(async () => {
    parser = await loadPgParser();
  });

  it.each(CORPUS)('%s', (sql) => {
    const lexed = lexSql(sql);
    expect(lexed.shapeKey).toBeDefined();
    expect(lexerAgreesWithScanner(sql, lexed, parser)).toBe(true);
  });

  it('notices a lexer that got a literal wrong', () => {
    const sql = "SELECT 'abc', 12";
    const lexed = lexSql(sql);
    const shifted = { ...lexed, literals: lexed.literals.map((l) => ({ ...l, end: l.end - 1 })) };
    expect(lexerAgreesWithScanner(sql, shifted, parser)).toBe(false);
    const missing = { ...lexed, literals: lexed.literals.slice(1) };
    expect(lexerAgreesWithScanner(sql, missing, parser)).toBe(false);
    const wrongClass = { ...lexed, literals: lexed.literals.map((l) => ({ ...l, cls: 'f' as const })) };
    expect(lexerAgreesWithScanner(sql, wrongClass, parser)).toBe(false);
    expect(lexerAgreesWithScanner(sql, { ...lexed, comments: [{ start: 0, end: 1 }] }, parser)).toBe(false);
  });
});
