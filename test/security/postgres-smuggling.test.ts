/**
 * Security regression: statement smuggling through the PostgreSQL module. A denied statement must
 * be denied however it is wrapped — several statements in one simple query, comments, dollar
 * quoting, `U&`/`E''` escapes, data-modifying CTEs, EXPLAIN ANALYZE, rules, SQL function bodies,
 * DO blocks, PREPARE/EXECUTE, and the extended protocol's statement names (Parse/Close/Parse under
 * the same name, the unnamed statement after a refused Parse, a pipelined batch) — and input the
 * parser cannot judge (unparsable, very long, deeply nested) ends in a clean error.
 *
 * Attack classes and advisories: SQL smuggling past a proxy's classifier (the class behind
 * PgBouncer's CVE-2025-12819, SQL run through startup/auth paths the pooler did not judge);
 * CVE-2025-1094 (quoting/escape confusion between two readers of the same SQL); PostgreSQL's
 * CVE-2007-2138/CVE-2018-1058 class (objects such as functions and rules that run other statements
 * later); pre-parse resource exhaustion (PgBouncer CVE-2026-6664 class: hostile sizes must not
 * crash the proxy).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APP_DATABASE,
  APP_PASSWORD,
  APP_USER,
  type PgCluster,
  type PgGateway,
  startPostgres,
  startPostgresGateway,
} from '../fixtures/postgres.js';
import { enc, fields, pgError, RawPg, rawLogin, withPg } from '../support/pg-client.js';

const POLICY = {
  rules: [
    { id: 'no-drop', action: 'deny', sql: { kinds: ['drop', 'truncate'] }, message: 'DROP is not allowed' },
    {
      id: 'no-delete',
      action: 'deny',
      sql: { kinds: ['delete'], tables: ['orders', 'customers'] },
      message: 'deleting orders or customers is not allowed',
    },
    { id: 'admin', action: 'deny', sql: { kinds: ['admin'] }, message: 'admin statements are not allowed' },
  ],
};

let cluster: PgCluster;
let gw: PgGateway;
let token: string;

beforeAll(async () => {
  cluster = await startPostgres();
  gw = await startPostgresGateway(cluster, { policy: POLICY, options: { allowPlaintext: true } });
  token = await gw.token();
}, 120_000);

afterAll(async () => {
  await gw?.close();
  await cluster?.stop();
});

/** Asks the upstream directly, past the gateway. */
const upstream = (sql: string) =>
  cluster.psql(sql, { user: APP_USER, password: APP_PASSWORD, database: APP_DATABASE }).then((s) => s.trim());

const db = <T>(fn: (c: import('pg').Client) => Promise<T>) => withPg(gw, token, fn);

/** The table is still there and the row counts are as seeded. */
async function nothingHappened(): Promise<void> {
  expect(await upstream("SELECT to_regclass('scratch') IS NOT NULL")).toBe('t');
  expect(await upstream('SELECT count(*) FROM orders')).toBe('3');
  expect(await upstream('SELECT count(*) FROM customers')).toBe('3');
}

async function denied(sql: string, rule: string): Promise<void> {
  const err = await db((c) => pgError(c.query(sql)));
  expect(err.code, sql).toBe('42501');
  expect(err.message, sql).toContain(`(rule ${rule})`);
}

describe('simple query strings', () => {
  it('denies a DROP hidden after a harmless statement in a multi-statement query', async () => {
    await denied('SELECT 1; DROP TABLE scratch', 'no-drop');
    await denied('SELECT 1;;; drop table scratch;', 'no-drop');
    await nothingHappened();
  });

  it('denies a DROP behind comments, nested comments and comment-split keywords', async () => {
    await denied('/* SELECT 1; */ -- harmless\nDROP TABLE scratch', 'no-drop');
    await denied('SELECT 1 /* ; /* nested */ ; */; DROP/**/TABLE/**/scratch', 'no-drop');
    await denied('SELECT 1 -- ; \n; DROP TABLE scratch', 'no-drop');
    await nothingHappened();
  });

  it('denies a DROP after dollar-quoted strings that look like they swallow it', async () => {
    await denied('SELECT $$;$$; DROP TABLE scratch', 'no-drop');
    await denied('SELECT $a$ $$ ; $a$; DROP TABLE scratch; SELECT $b$x$b$', 'no-drop');
    await denied("SELECT $_$'$_$; DROP TABLE scratch; --", 'no-drop');
    await nothingHappened();
  });

  it("denies a DROP after E'' and U& escapes that hide or spell a quote", async () => {
    await denied("SELECT E'\\''; DROP TABLE scratch; --'", 'no-drop');
    await denied("SELECT U&'\\0027'; DROP TABLE scratch", 'no-drop');
    await denied("SELECT U&'!0027' UESCAPE '!'; DROP TABLE scratch", 'no-drop');
    // A table name spelled with Unicode escapes is still the table.
    await denied('DELETE FROM U&"cust\\006Fmers" WHERE id = 1', 'no-delete');
    await denied('DELETE FROM "public"."orders" WHERE id = 1', 'no-delete');
    await nothingHappened();
  });
});

describe('statements that run other statements', () => {
  it('denies a DELETE inside a data-modifying CTE, at any depth', async () => {
    await denied('WITH d AS (DELETE FROM orders RETURNING *) SELECT count(*) FROM d', 'no-delete');
    await denied(
      'WITH a AS (SELECT 1), b AS (WITH c AS (DELETE FROM customers WHERE id = 3 RETURNING id) SELECT * FROM c) SELECT * FROM b',
      'no-delete',
    );
    await nothingHappened();
  });

  it('denies EXPLAIN ANALYZE of a denied statement, and allows plain EXPLAIN of it', async () => {
    await denied('EXPLAIN ANALYZE DELETE FROM orders', 'no-delete');
    await denied('EXPLAIN (ANALYZE true, COSTS off) DELETE FROM orders', 'no-delete');
    const plan = await db((c) => c.query('EXPLAIN (COSTS off) DELETE FROM orders'));
    expect(JSON.stringify(plan.rows)).toContain('Delete on orders');
    await nothingHappened();
  });

  it('denies a rule whose action is a denied statement', async () => {
    await denied('CREATE RULE r_wipe AS ON INSERT TO scratch DO ALSO DELETE FROM orders', 'no-delete');
    await denied(
      'CREATE RULE r_drop AS ON INSERT TO scratch DO ALSO (SELECT 1; DELETE FROM customers)',
      'no-delete',
    );
    await db((c) => c.query("INSERT INTO scratch VALUES (1, 'rule?')"));
    await nothingHappened();
  });

  it('denies a SQL function whose body is a denied statement, in every body form', async () => {
    await denied("CREATE FUNCTION f_wipe() RETURNS void LANGUAGE sql AS 'DELETE FROM orders'", 'no-delete');
    await denied(
      'CREATE OR REPLACE FUNCTION f_drop() RETURNS void AS $body$ SELECT 1; DROP TABLE scratch $body$ LANGUAGE sql',
      'no-drop',
    );
    await denied(
      'CREATE PROCEDURE p_wipe() LANGUAGE sql BEGIN ATOMIC DELETE FROM customers; END',
      'no-delete',
    );
    await denied(
      "CREATE FUNCTION f_quoted() RETURNS int LANGUAGE sql AS E'DELETE FROM orders RETURNING 1'",
      'no-delete',
    );
    // Had any of them been created, calling it would run the statement.
    expect(
      await upstream("SELECT count(*) FROM pg_proc WHERE proname IN ('f_wipe','f_drop','p_wipe','f_quoted')"),
    ).toBe('0');
    const ok = await db((c) =>
      c
        .query("CREATE FUNCTION f_ok(int) RETURNS int LANGUAGE sql AS 'SELECT $1 + 1'")
        .then(() => c.query('SELECT f_ok(41) AS n')),
    );
    expect(ok.rows).toEqual([{ n: 42 }]);
    await nothingHappened();
  });

  it('denies a function in a language the gateway cannot read, and DO blocks', async () => {
    await denied(
      "CREATE FUNCTION f_plpgsql() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'DROP TABLE scratch'; END $$",
      'admin',
    );
    await denied("DO $$ BEGIN EXECUTE 'DROP TABLE scratch'; END $$", 'admin');
    await denied("DO LANGUAGE plpgsql 'BEGIN DELETE FROM orders; END'", 'admin');
    await nothingHappened();
  });

  it('ends the session when a function body turns standard_conforming_strings off', async () => {
    await db((c) =>
      c.query(
        "CREATE FUNCTION f_scs() RETURNS text LANGUAGE sql AS $$ SELECT set_config('standard_conforming_strings', 'off', false) $$",
      ),
    );
    await db(async (c) => {
      const err = await pgError(c.query('SELECT f_scs()'));
      expect(err.message).toContain('standard_conforming_strings');
      // Read with backslash escapes, this would be a string and then a DROP.
      await pgError(c.query("SELECT 'a\\''; DROP TABLE scratch; --'"));
    });
    await nothingHappened();
  });

  it('denies PREPARE of a denied statement, and EXECUTE of a name the gateway never saw', async () => {
    await db(async (c) => {
      const err = await pgError(c.query('PREPARE wipe AS DELETE FROM orders'));
      expect(err.message).toContain('(rule no-delete)');
      const unknown = await pgError(c.query('EXECUTE wipe'));
      expect(unknown.message).toContain('was not prepared through the gateway');
    });
    await nothingHappened();
  });
});

describe('extended protocol', () => {
  const parse = (statement: string, query: string) =>
    enc({ type: 'Parse', statement, query, paramTypes: [] });
  const bind = (statement: string) =>
    enc({ type: 'Bind', portal: '', statement, paramFormats: [], params: [], resultFormats: [] });
  const execute = enc({ type: 'Execute', portal: '', maxRows: 0 });
  const sync = enc({ type: 'Sync' });

  async function session(): Promise<RawPg> {
    const raw = await RawPg.open(gw);
    await rawLogin(raw, token);
    return raw;
  }

  it('never executes a denied statement Parsed under the name of a closed harmless one', async () => {
    const raw = await session();
    raw.send(parse('s1', "INSERT INTO scratch VALUES (101, 'harmless')"), sync);
    expect((await raw.until('Z')).map((m) => m.code)).toEqual(['1', 'Z']);
    raw.send(enc({ type: 'Close', target: 'statement', name: 's1' }), sync);
    expect((await raw.until('Z')).map((m) => m.code)).toEqual(['3', 'Z']);
    raw.send(parse('s1', 'DROP TABLE scratch'), bind('s1'), execute, sync);
    const reply = await raw.until('Z');
    expect(reply[0]?.code).toBe('E');
    expect(fields(reply[0]!)['M']).toContain('(rule no-drop)');
    // Bound again in a batch of its own: the name is gone upstream, nothing runs.
    raw.send(bind('s1'), execute, sync);
    const again = await raw.until('Z');
    expect(again.map((m) => m.code)).not.toContain('C');
    raw.destroy();
    await nothingHappened();
    expect(await upstream('SELECT count(*) FROM scratch WHERE id = 101')).toBe('0');
  });

  it('re-binds the unnamed statement after a refused Parse without running the refused text', async () => {
    const raw = await session();
    raw.send(parse('', 'SELECT 7 AS seven'), sync);
    await raw.until('Z');
    raw.send(parse('', 'TRUNCATE orders'), sync);
    const refused = await raw.until('Z');
    expect(fields(refused[0]!)['M']).toContain('(rule no-drop)');
    raw.send(bind(''), execute, sync);
    const reply = await raw.until('Z');
    // Either the old harmless statement or an error; never the TRUNCATE.
    const complete = reply.find((m) => m.code === 'C');
    if (complete !== undefined) expect(complete.body.toString()).toContain('SELECT');
    raw.destroy();
    await nothingHappened();
  });

  it('skips an older statement executed after a denied Parse in the same pipelined batch', async () => {
    const raw = await session();
    raw.send(parse('old', "INSERT INTO scratch VALUES (202, 'must not run')"), sync);
    await raw.until('Z');
    raw.send(parse('new', 'DELETE FROM customers'), bind('old'), execute, sync);
    const reply = await raw.until('Z');
    expect(reply.map((m) => m.code)).toEqual(['E', 'Z']);
    raw.destroy();
    await nothingHappened();
    expect(await upstream('SELECT count(*) FROM scratch WHERE id = 202')).toBe('0');
  });
});

describe('what the parser cannot judge', () => {
  it('denies a statement the parser cannot parse with 42601', async () => {
    for (const sql of [
      'SELEC 1; DROP TABLE scratch',
      'DROP TABLE scratch; SELECT (',
      "SELECT 'unterminated",
    ]) {
      const err = await db((c) => pgError(c.query(sql)));
      expect(err.code, sql).toBe('42601');
    }
    await nothingHappened();
  });

  it('answers a very long and a deeply nested statement with a clean error, and stays up', async () => {
    const long = `SELECT '${'x'.repeat(4 * 1024 * 1024)}' AS big; DROP TABLE scratch`;
    const deep = `SELECT ${'('.repeat(20_000)}1${')'.repeat(20_000)}; DROP TABLE scratch`;
    const manyCtes = `${Array.from({ length: 40 }, (_, i) => `WITH c${i} AS (`).join('')}DELETE FROM orders RETURNING 1${')SELECT 1'.repeat(40)}`;
    for (const sql of [long, deep, manyCtes]) {
      const err = await db((c) => pgError(c.query(sql)));
      expect(['42501', '42601', '54000', '54001'], err.message.slice(0, 200)).toContain(err.code);
    }
    expect((await db((c) => c.query('SELECT 1 AS ok'))).rows).toEqual([{ ok: 1 }]);
    await nothingHappened();
  }, 60_000);
});
