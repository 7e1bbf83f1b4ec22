import { sqlStatement as S } from '@gatehouse/policy';
import { beforeAll, describe, expect, it } from 'vitest';

import { loadPgParser } from './pg-parser.js';
import { analyzeSql, createSqlAnalyzer, initSqlAnalyzer } from './sql-analyzer.js';

// Runs first: this file's module instance has not loaded the parser yet.
it('answers `unavailable` before initSqlAnalyzer, without throwing', () => {
  expect(analyzeSql('SELECT 1')).toMatchObject({ ok: false, code: 'unavailable' });
  expect(createSqlAnalyzer().analyze('SELECT 1')).toMatchObject({ ok: false, code: 'unavailable' });
});

describe('after initSqlAnalyzer', () => {
  beforeAll(async () => {
    await initSqlAnalyzer();
    await initSqlAnalyzer();
  });

  describe('refusals', () => {
    it('reports a parse error with the parser message and its position', () => {
      expect(analyzeSql('SELEC 1')).toEqual({
        ok: false,
        code: 'syntax_error',
        error: 'syntax error at or near "SELEC" (position 1)',
        redactedText: 'SELEC 1',
        position: 1,
      });
      const multi = analyzeSql("SELECT 'é😀' FRM t");
      // Positions count code points, as PostgreSQL's do: the emoji is one character.
      expect(multi).toMatchObject({ ok: false, code: 'syntax_error', position: 17 });
      expect(analyzeSql("SELECT 'abc")).toMatchObject({ ok: false, code: 'syntax_error' });
      // A no-break space is an identifier character to PostgreSQL, not white space.
      expect(analyzeSql('\u00a0SELECT 1')).toMatchObject({ ok: false, code: 'syntax_error' });
    });

    it('masks string literals of a failed text that may hold a secret, and does not cache it', () => {
      const analyzer = createSqlAnalyzer();
      const unterminated = analyzer.analyze("CREATE ROLE app PASSWORD 'hunter2");
      expect(unterminated).toMatchObject({
        ok: false,
        code: 'syntax_error',
        redactedText: "CREATE ROLE app PASSWORD '[REDACTED]'",
      });
      expect(JSON.stringify(unterminated)).not.toContain('hunter2');
      const typo = analyzer.analyze("ALTER ROLE app PASSWORD E'hunter\\'2' LOGN");
      expect(typo).toMatchObject({ ok: false, redactedText: "ALTER ROLE app PASSWORD E'[REDACTED]' LOGN" });
      expect(JSON.stringify(typo)).not.toContain('hunter');
      expect(analyzer.stats().exactEntries).toBe(0);
      expect(analyzer.analyze("SELECT 'abc' FRM t")).toMatchObject({
        ok: false,
        redactedText: "SELECT 'abc' FRM t",
      });
      expect(analyzer.stats().exactEntries).toBe(1);
    });

    it('judges every statement: one bad statement fails the whole text', () => {
      expect(analyzeSql('SELECT 1; DROP TABLE x; SELEC 2')).toMatchObject({
        ok: false,
        code: 'syntax_error',
      });
    });

    it('refuses a text over the byte limit, counting UTF-8 bytes', () => {
      const analyzer = createSqlAnalyzer({ maxTextBytes: 100 });
      expect(analyzer.analyze(`SELECT '${'x'.repeat(91)}'`)).toMatchObject({ ok: true });
      expect(analyzer.analyze(`SELECT '${'x'.repeat(92)}'`)).toMatchObject({ ok: false, code: 'too_long' });
      expect(analyzer.analyze(`SELECT '${'é'.repeat(45)}'`)).toMatchObject({ ok: true });
      expect(analyzer.analyze(`SELECT '${'é'.repeat(46)}'`)).toMatchObject({ ok: false, code: 'too_long' });
      expect(analyzeSql(`SELECT '${'x'.repeat(1024 * 1024)}'`)).toMatchObject({
        ok: false,
        code: 'too_long',
      });
    });

    it('refuses NUL characters, which would make the C parser judge a prefix', () => {
      expect(analyzeSql('SELECT 1\u0000; DROP TABLE x')).toMatchObject({ ok: false, code: 'invalid_text' });
    });

    it('refuses lone surrogates', () => {
      expect(analyzeSql("SELECT '\ud800'")).toMatchObject({ ok: false, code: 'invalid_text' });
      expect(analyzeSql("SELECT '\udc00x'")).toMatchObject({ ok: false, code: 'invalid_text' });
      expect(analyzeSql("SELECT '😀'")).toMatchObject({ ok: true });
    });

    it('refuses statements nested too deeply before they reach the parser', () => {
      const parser = createSqlAnalyzer();
      const before = parser.stats().parserRestarts;
      for (const sql of [
        `SELECT 1${' || 1'.repeat(30000)}`,
        `SELECT ${'NOT '.repeat(9000)}true`,
        `SELECT ${'(SELECT '.repeat(1500)}1${')'.repeat(1500)}`,
      ]) {
        expect(parser.analyze(sql)).toMatchObject({ ok: false, code: 'too_complex' });
      }
      expect(parser.stats()).toMatchObject({ parses: 0, parserRestarts: before });
    });

    it('treats a non-string defensively', () => {
      expect(analyzeSql(42 as unknown as string)).toMatchObject({ ok: false, code: 'invalid_text' });
    });
  });

  describe('empty texts', () => {
    it.each(['', '   ', '-- only a comment', '/* only */ ;', ';;'])('%j has no statements', (sql) => {
      expect(analyzeSql(sql)).toEqual({ ok: true, statements: [], redactedText: sql, secrets: [] });
    });
  });

  describe('caches', () => {
    const pgbench = (aid: number) => `SELECT abalance FROM pgbench_accounts WHERE aid = ${aid};`;

    it('answers the same text from the exact cache', () => {
      const analyzer = createSqlAnalyzer();
      const first = analyzer.analyze('SELECT * FROM orders');
      const second = analyzer.analyze('SELECT * FROM orders');
      expect(second).toBe(first);
      expect(analyzer.stats()).toMatchObject({ exactHits: 1, shapeHits: 0, parses: 1, exactEntries: 1 });
    });

    it('shares facts between literal variants without parsing again', () => {
      const analyzer = createSqlAnalyzer();
      const texts = [1, 2, 3, 48213, 99999].map(pgbench);
      const results = texts.map((t) => analyzer.analyze(t));
      for (const [i, r] of results.entries()) {
        expect(r).toEqual({
          ok: true,
          statements: [S('select', { tables: ['pgbench_accounts'] })],
          redactedText: texts[i],
          secrets: [],
          // The first text was parsed; the others were recognised by their shape, which they share.
          ...(i === 0 ? {} : { shape: (results[1] as { shape?: string }).shape }),
        });
      }
      const shape = (results[1] as { shape?: string }).shape;
      expect(shape).toEqual(expect.any(String));
      expect(shape).not.toContain('48213');
      expect(analyzer.stats()).toMatchObject({ parses: 1, shapeHits: 4, shapeEntries: 1 });
      // And the variants land in the exact cache too.
      expect(analyzer.analyze(pgbench(3))).toBe(results[2]);
    });

    it('shares between string literals and comments of any content', () => {
      const analyzer = createSqlAnalyzer();
      analyzer.analyze("SELECT * FROM users WHERE email = 'a@example.com' /* req 1 */");
      const other = analyzer.analyze(
        "SELECT * FROM users WHERE email = 'o''brien; DROP TABLE x' /* req 2 */",
      );
      expect(other).toMatchObject({ ok: true, statements: [S('select', { tables: ['users'] })] });
      expect(analyzer.stats()).toMatchObject({ parses: 1, shapeHits: 1 });
    });

    it('does not share facts that were read from a literal', () => {
      const analyzer = createSqlAnalyzer();
      const harmless = analyzer.analyze("SELECT set_config('search_path', 'x', false)");
      const roleSwitch = analyzer.analyze("SELECT set_config('role', 'x', false)");
      expect(harmless).toMatchObject({ ok: true, statements: [S('select', { functions: ['set_config'] })] });
      expect(roleSwitch).toMatchObject({
        ok: true,
        statements: [
          S('select', { functions: ['set_config'], nested: [S('set_role', { functions: ['set_config'] })] }),
        ],
      });
      const off = analyzer.analyze("EXPLAIN (ANALYZE 'off') DELETE FROM t");
      const on = analyzer.analyze("EXPLAIN (ANALYZE 'on') DELETE FROM t");
      expect(off).toMatchObject({ ok: true, statements: [{ kind: 'explain', analyze: false }] });
      expect(on).toMatchObject({ ok: true, statements: [{ kind: 'explain', analyze: true }] });
      expect(analyzer.stats()).toMatchObject({ parses: 4, shapeHits: 0 });
    });

    it('does not share facts between SQL function bodies of one shape', () => {
      const analyzer = createSqlAnalyzer();
      const harmless = analyzer.analyze("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'");
      const wipe = analyzer.analyze(
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'DELETE FROM t RETURNING 1'",
      );
      const opaque = analyzer.analyze("CREATE FUNCTION f() RETURNS int LANGUAGE 'plpgsql' AS 'SELECT 1'");
      expect(harmless).toMatchObject({
        ok: true,
        statements: [{ kind: 'create_function', nested: [S('select')] }],
      });
      expect(wipe).toMatchObject({
        ok: true,
        statements: [{ kind: 'create_function', nested: [{ kind: 'delete', tables: ['t'] }] }],
      });
      expect(opaque).toMatchObject({
        ok: true,
        statements: [{ kind: 'create_function', nested: [S('do')] }],
      });
      expect(analyzer.stats()).toMatchObject({ parses: 3, shapeHits: 0 });
    });

    it('carries SQL prepared-statement names and refused settings, read from the same parse', () => {
      const analyzer = createSqlAnalyzer();
      const names = analyzer.analyze(
        'PREPARE p AS SELECT 1; EXPLAIN ANALYZE EXECUTE p; DEALLOCATE p; DISCARD ALL',
      );
      expect(names).toMatchObject({
        ok: true,
        extras: {
          prepares: [{ index: 0, name: 'p' }],
          executes: [{ index: 1, names: ['p'] }],
          deallocates: [
            { index: 2, name: 'p' },
            { index: 3, name: '*' },
          ],
          refusal: undefined,
        },
      });
      expect(analyzer.analyze('SELECT names FROM t WHERE id = 1')).not.toHaveProperty('extras');
      expect(analyzer.stats()).toMatchObject({ parses: 2 });
      // A setting's value is a literal: texts of one shape are judged each on its own.
      const utf8 = analyzer.analyze("SET client_encoding = 'UTF8'");
      const latin1 = analyzer.analyze("SET client_encoding = 'LATIN1'");
      const viaFunction = analyzer.analyze("SELECT set_config('client_encoding', 'LATIN1', false)");
      expect(utf8).not.toHaveProperty('extras');
      expect(latin1).toMatchObject({
        ok: true,
        extras: { refusal: expect.stringContaining('client_encoding') },
      });
      expect(viaFunction).toMatchObject({
        ok: true,
        extras: { refusal: expect.stringContaining('client_encoding') },
      });
      expect(analyzer.stats()).toMatchObject({ parses: 5, shapeHits: 0 });
    });

    it('never shares or keeps secrets', () => {
      const analyzer = createSqlAnalyzer();
      const one = analyzer.analyze("ALTER ROLE app PASSWORD 'one'");
      const two = analyzer.analyze("ALTER ROLE app PASSWORD 'two'");
      const again = analyzer.analyze("ALTER ROLE app PASSWORD 'one'");
      expect(one).toMatchObject({
        ok: true,
        secrets: ['one'],
        redactedText: "ALTER ROLE app PASSWORD '[REDACTED]'",
      });
      expect(two).toMatchObject({ ok: true, secrets: ['two'] });
      expect(again).toEqual(one);
      expect(again).not.toBe(one);
      expect(analyzer.stats()).toMatchObject({
        parses: 3,
        exactHits: 0,
        shapeHits: 0,
        exactEntries: 0,
        shapeEntries: 0,
      });
    });

    it('caches parse errors by exact text only', () => {
      const analyzer = createSqlAnalyzer();
      analyzer.analyze('SELECT * FRM t WHERE a = 1');
      analyzer.analyze('SELECT * FRM t WHERE a = 1');
      analyzer.analyze('SELECT * FRM t WHERE a = 2');
      expect(analyzer.stats()).toMatchObject({ exactHits: 1, shapeHits: 0, parses: 2 });
    });

    it('keeps at most cacheSize entries, dropping the least recently used', () => {
      const analyzer = createSqlAnalyzer({ cacheSize: 2 });
      analyzer.analyze('SELECT 1 FROM a');
      analyzer.analyze('SELECT 1 FROM b');
      analyzer.analyze('SELECT 1 FROM a');
      analyzer.analyze('SELECT 1 FROM c');
      expect(analyzer.stats()).toMatchObject({ exactEntries: 2, shapeEntries: 2, parses: 3, exactHits: 1 });
      analyzer.analyze('SELECT 1 FROM a');
      // `b` left the exact cache; its shape, less recently replaced, is still there.
      analyzer.analyze('SELECT 1 FROM b');
      expect(analyzer.stats()).toMatchObject({ parses: 3, exactHits: 2, shapeHits: 1 });
      analyzer.analyze('SELECT 1 FROM a');
      analyzer.analyze('SELECT 1 FROM d');
      analyzer.analyze('SELECT 1 FROM e');
      analyzer.analyze('SELECT 1 FROM a');
      expect(analyzer.stats()).toMatchObject({ parses: 6, exactEntries: 2, shapeEntries: 2 });
    });

    it('can be turned off and cleared', () => {
      const off = createSqlAnalyzer({ cacheSize: 0 });
      off.analyze(pgbench(1));
      off.analyze(pgbench(1));
      off.analyze(pgbench(2));
      expect(off.stats()).toMatchObject({ parses: 3, exactEntries: 0, shapeEntries: 0 });
      const on = createSqlAnalyzer();
      on.analyze(pgbench(1));
      on.clear();
      on.analyze(pgbench(1));
      expect(on.stats()).toMatchObject({ parses: 2, exactHits: 0 });
    });

    it('does not cache texts longer than maxCachedTextLength', () => {
      const analyzer = createSqlAnalyzer({ maxCachedTextLength: 20 });
      analyzer.analyze('SELECT * FROM a_rather_long_table_name');
      analyzer.analyze('SELECT * FROM a_rather_long_table_name');
      expect(analyzer.stats()).toMatchObject({ parses: 2, exactEntries: 0, shapeEntries: 0 });
    });

    it('keeps analyzers apart', () => {
      const a = createSqlAnalyzer();
      const b = createSqlAnalyzer();
      a.analyze('SELECT 1');
      b.analyze('SELECT 1');
      expect(a.stats().parses).toBe(1);
      expect(b.stats().parses).toBe(1);
    });
  });

  describe('a statement that breaks the parser', () => {
    it('costs one parser instance, never the process, and the next statement is judged at once', async () => {
      const parser = await loadPgParser();
      // Past the nesting guard on purpose: the WASM code overflows the stack on this.
      const analyzer = createSqlAnalyzer({ maxNesting: 1e9 });
      const before = parser.restarts;
      for (let i = 0; i < 30; i++) {
        const deep = `SELECT 1${' || 1'.repeat(30000 + i)}`;
        expect(analyzer.analyze(deep)).toMatchObject({ ok: false, code: 'unavailable' });
        // The standby instance took over synchronously.
        expect(analyzer.analyze(`SELECT ${i}`)).toMatchObject({ ok: true });
        await parser.settled();
      }
      expect(parser.restarts - before).toBe(30);
      expect(analyzer.stats().parserRestarts).toBe(parser.restarts);
    });
  });
});
