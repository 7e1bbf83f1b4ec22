import type { SqlStatementFacts } from '@gatehouse/policy';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';

import type { SqlAnalysis } from './sql-analysis.js';
import { analyzeSql, createSqlAnalyzer, initSqlAnalyzer } from './sql-analyzer.js';

/** `SQL_PROPERTY_RUNS=50` for a longer hunt. */
const SCALE = Math.max(1, Number(process.env['SQL_PROPERTY_RUNS'] ?? 1) || 1);

beforeAll(async () => {
  await initSqlAnalyzer();
});

const CORPUS = [
  'SELECT abalance FROM pgbench_accounts WHERE aid = 48213;',
  'UPDATE pgbench_accounts SET abalance = abalance + -4123 WHERE aid = 77123;',
  "WITH d AS (DELETE FROM t WHERE a = 'x' RETURNING *) INSERT INTO archive SELECT * FROM d",
  "SELECT set_config('role', 'admin', false); SET ROLE admin; RESET ROLE",
  "EXPLAIN (ANALYZE 'off') DELETE FROM t WHERE id = 1",
  "ALTER ROLE app PASSWORD 'it''s'; CREATE USER u PASSWORD $p$x$p$",
  "CREATE USER MAPPING FOR bob SERVER s OPTIONS (user 'bob', password 'pw')",
  "COPY (SELECT * FROM users WHERE email = E'a@b') TO '/tmp/x'",
  'SELECT * FROM "Users" u JOIN s.t ON t.id = u.id /* c */ -- d',
  "DO $$BEGIN PERFORM pg_read_file('x'); END$$",
  'PREPARE p(int) AS SELECT * FROM t WHERE id = $1; EXECUTE p(1)',
  "SELECT 1.5, 2, 'x', $$y$$, E'z', U&'w', B'1', X'f'",
];

/** Characters that change how SQL lexes. */
const SQL_ALPHABET = [...'\'"$;()[]-/*\\ \n\teEuU&bBxX0123456789.,:=<>+%^|!@#?~`{}é😀'];

type Edit = { at: number; remove: number; insert: string };

const editArb: fc.Arbitrary<Edit> = fc.record({
  at: fc.nat(),
  remove: fc.nat({ max: 4 }),
  insert: fc.string({ unit: fc.constantFrom(...SQL_ALPHABET), maxLength: 4 }),
});

function mutate(text: string, edits: readonly Edit[]): string {
  let out = text;
  for (const e of edits) {
    const at = out.length === 0 ? 0 : e.at % (out.length + 1);
    out = out.slice(0, at) + e.insert + out.slice(at + e.remove);
  }
  return out;
}

const mutatedSql = fc
  .tuple(fc.constantFrom(...CORPUS), fc.array(editArb, { minLength: 1, maxLength: 6 }))
  .map(([text, edits]) => mutate(text, edits));

const anyText = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 100 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 100 }),
  fc.string({ unit: fc.constantFrom(...SQL_ALPHABET), maxLength: 100 }),
  mutatedSql,
);

function checkShape(text: string, result: SqlAnalysis): void {
  expect(typeof result.ok).toBe('boolean');
  if (!result.ok) {
    expect(typeof result.error).toBe('string');
    expect(typeof result.redactedText).toBe('string');
    return;
  }
  expect(Array.isArray(result.statements)).toBe(true);
  for (const s of result.statements) {
    expect(typeof s.kind).toBe('string');
    expect(s.kind).not.toBe('');
  }
  if (result.secrets.length === 0) expect(result.redactedText).toBe(text);
  for (const secret of result.secrets) expect(secret).not.toBe('');
}

/** Statements without the object identity and freezing that caches add. */
const plain = (statements: readonly SqlStatementFacts[]) => JSON.parse(JSON.stringify(statements)) as unknown;

describe('the analyzer never throws', () => {
  it('on arbitrary strings', () => {
    const analyzer = createSqlAnalyzer();
    fc.assert(
      fc.property(anyText, (text) => {
        checkShape(text, analyzeSql(text));
        checkShape(text, analyzer.analyze(text));
      }),
      { numRuns: 2000 * SCALE },
    );
  });
});

describe('the caches never change an answer', () => {
  it('on mutated SQL: a cached analyzer answers exactly what a fresh parse answers', () => {
    const analyzer = createSqlAnalyzer({ cacheSize: 200 });
    fc.assert(
      fc.property(fc.array(mutatedSql, { minLength: 1, maxLength: 20 }), (texts) => {
        for (const text of texts) {
          const cached = analyzer.analyze(text);
          const fresh = analyzeSql(text);
          expect(cached.ok).toBe(fresh.ok);
          if (cached.ok && fresh.ok) {
            expect(plain(cached.statements)).toEqual(plain(fresh.statements));
            expect(cached.redactedText).toBe(fresh.redactedText);
            expect(cached.secrets).toEqual(fresh.secrets);
          }
        }
      }),
      { numRuns: 300 * SCALE },
    );
  });

  /** A literal of each kind the shape lexer abstracts, with values chosen to be awkward. */
  const stringValue = fc.string({ unit: fc.constantFrom(...'ab\'\\"$;-/*\n é😀'), maxLength: 12 });
  const literal = fc.oneof(
    stringValue.map((v) => `'${v.replace(/'/g, "''")}'`),
    stringValue.map((v) => `E'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`),
    stringValue.filter((v) => !v.includes('$q$') && !v.endsWith('$')).map((v) => `$q$${v}$q$`),
    fc.nat({ max: 999_999_999 }).map(String),
    fc.bigInt({ min: 0n, max: 10n ** 20n }).map(String),
    fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => `${a}.${b}`),
  );
  const TEMPLATES = [
    (a: string, b: string) => `SELECT abalance FROM pgbench_accounts WHERE aid = ${a} AND x = ${b}`,
    (a: string, b: string) => `SELECT set_config(${a}, ${b}, false)`,
    (a: string, _: string) => `EXPLAIN (ANALYZE ${a}) DELETE FROM t`,
    (a: string, b: string) => `ALTER ROLE app PASSWORD ${a}; SELECT ${b}`,
    (a: string, b: string) => `SELECT dblink_connect(${a}, ${b})`,
    (a: string, b: string) => `COPY t FROM ${a} WHERE c = ${b}`,
    (a: string, b: string) => `UPDATE t SET a = ${a} WHERE b = ${b} /* ${b.replace(/\*\//g, '')} */`,
    (a: string, b: string) => `SELECT ${a}::int, ${b} FROM t LIMIT ${a}`,
  ];

  it('on literal variants of the same statements', () => {
    const analyzer = createSqlAnalyzer();
    fc.assert(
      fc.property(fc.nat({ max: TEMPLATES.length - 1 }), literal, literal, (which, a, b) => {
        const text = (TEMPLATES[which] as (a: string, b: string) => string)(a, b);
        const cached = analyzer.analyze(text);
        const fresh = analyzeSql(text);
        expect(cached.ok).toBe(fresh.ok);
        if (cached.ok && fresh.ok) {
          expect(plain(cached.statements)).toEqual(plain(fresh.statements));
          expect(cached.redactedText).toBe(fresh.redactedText);
          expect(cached.secrets).toEqual(fresh.secrets);
        }
      }),
      { numRuns: 3000 * SCALE },
    );
    // The point of the shape cache: most variants never reached the parser.
    expect(analyzer.stats().shapeHits).toBeGreaterThan(500);
  });
});
