import { beforeAll, describe, expect, it } from 'vitest';

import { loadPgParser } from './pg-parser.js';
import { literalBody, REDACTED_STATEMENT, redactSecrets } from './redaction.js';
import { analyzeSql, initSqlAnalyzer } from './sql-analyzer.js';

beforeAll(async () => {
  await initSqlAnalyzer();
});

function redact(sql: string): { text: string; secrets: readonly string[] } {
  const result = analyzeSql(sql);
  if (!result.ok) throw new Error(`${sql}: ${result.error}`);
  return { text: result.redactedText, secrets: result.secrets };
}

type Case = readonly [sql: string, redacted: string, secrets: readonly string[]];

describe('secrets are replaced by the scanner token positions', () => {
  const cases: readonly Case[] = [
    ["CREATE ROLE app LOGIN PASSWORD 'hunter2'", "CREATE ROLE app LOGIN PASSWORD '[REDACTED]'", ['hunter2']],
    [
      "ALTER ROLE app WITH ENCRYPTED PASSWORD 'it''s'",
      "ALTER ROLE app WITH ENCRYPTED PASSWORD '[REDACTED]'",
      ["it's", "it''s"],
    ],
    ["ALTER USER app PASSWORD E'a\\'b'", "ALTER USER app PASSWORD '[REDACTED]'", ["a'b", "a\\'b"]],
    ["ALTER USER app PASSWORD e'x\\\\y'", "ALTER USER app PASSWORD '[REDACTED]'", ['x\\y', 'x\\\\y']],
    ['CREATE USER app PASSWORD $$x$$', "CREATE USER app PASSWORD '[REDACTED]'", ['x']],
    [
      "CREATE USER app PASSWORD $tag$x'y$$z$tag$ VALID UNTIL '2030-01-01'",
      "CREATE USER app PASSWORD '[REDACTED]' VALID UNTIL '2030-01-01'",
      ["x'y$$z"],
    ],
    [
      "ALTER ROLE app PASSWORD U&'d\\0061t\\+000061'",
      "ALTER ROLE app PASSWORD '[REDACTED]'",
      ['data', 'd\\0061t\\+000061'],
    ],
    [
      "ALTER ROLE app PASSWORD U&'d!0061ta' UESCAPE '!' LOGIN",
      "ALTER ROLE app PASSWORD '[REDACTED]' LOGIN",
      ['data', 'd!0061ta'],
    ],
    // Continued across a newline, the scanner makes one literal of both parts.
    ["ALTER ROLE app PASSWORD 'ab'\n'cd'", "ALTER ROLE app PASSWORD '[REDACTED]'", ['abcd', "ab'\n'cd"]],
    ["CREATE ROLE r PASSWORD ''", "CREATE ROLE r PASSWORD '[REDACTED]'", []],
    ['ALTER ROLE app PASSWORD NULL', 'ALTER ROLE app PASSWORD NULL', []],
    [
      "/* PASSWORD 'decoy' */ ALTER ROLE r PASSWORD 'real' -- PASSWORD 'tail'",
      "/* PASSWORD 'decoy' */ ALTER ROLE r PASSWORD '[REDACTED]' -- PASSWORD 'tail'",
      ['real'],
    ],
    [
      "CREATE ROLE \"Zoë\" PASSWORD 'pässwörd😀'; SELECT 'é'",
      "CREATE ROLE \"Zoë\" PASSWORD '[REDACTED]'; SELECT 'é'",
      ['pässwörd😀'],
    ],
    [
      "CREATE ROLE a PASSWORD 'one'; SELECT 1; ALTER ROLE b PASSWORD 'two'",
      "CREATE ROLE a PASSWORD '[REDACTED]'; SELECT 1; ALTER ROLE b PASSWORD '[REDACTED]'",
      ['one', 'two'],
    ],
    [
      "CREATE USER MAPPING FOR bob SERVER s OPTIONS (user 'bob', password 'pw1')",
      "CREATE USER MAPPING FOR bob SERVER s OPTIONS (user 'bob', password '[REDACTED]')",
      ['pw1'],
    ],
    [
      "ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password 'pw2', DROP sslkey)",
      "ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password '[REDACTED]', DROP sslkey)",
      ['pw2'],
    ],
    [
      'ALTER USER MAPPING FOR bob SERVER s OPTIONS (ADD "password" $$pw3$$)',
      'ALTER USER MAPPING FOR bob SERVER s OPTIONS (ADD "password" \'[REDACTED]\')',
      ['pw3'],
    ],
    [
      'ALTER USER MAPPING FOR bob SERVER s OPTIONS (DROP password)',
      'ALTER USER MAPPING FOR bob SERVER s OPTIONS (DROP password)',
      [],
    ],
    [
      "CREATE SERVER s FOREIGN DATA WRAPPER f OPTIONS (host 'h', api_key 'k123', password_required 'false')",
      "CREATE SERVER s FOREIGN DATA WRAPPER f OPTIONS (host 'h', api_key '[REDACTED]', password_required 'false')",
      ['k123'],
    ],
    [
      "CREATE SUBSCRIPTION sub CONNECTION 'host=db password=pw4' PUBLICATION p",
      "CREATE SUBSCRIPTION sub CONNECTION '[REDACTED]' PUBLICATION p",
      ['host=db password=pw4'],
    ],
    [
      "ALTER SUBSCRIPTION sub CONNECTION 'postgresql://u:pw5@db/x'",
      "ALTER SUBSCRIPTION sub CONNECTION '[REDACTED]'",
      ['postgresql://u:pw5@db/x'],
    ],
    [
      "SELECT dblink_connect('c', 'host=db password=pw6'), dblink_exec('c', 'DELETE FROM t')",
      "SELECT dblink_connect('c', '[REDACTED]'), dblink_exec('c', 'DELETE FROM t')",
      ['host=db password=pw6'],
    ],
    [
      "EXPLAIN SELECT * FROM dblink('password=pw7', 'SELECT 1') AS t(a int)",
      "EXPLAIN SELECT * FROM dblink('[REDACTED]', 'SELECT 1') AS t(a int)",
      ['password=pw7'],
    ],
    // A password in a SQL function body: the body is one literal of the outer text.
    [
      "CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $b$CREATE ROLE x PASSWORD 'pw8'$b$",
      "CREATE FUNCTION f() RETURNS void LANGUAGE sql AS '[REDACTED]'",
      ["CREATE ROLE x PASSWORD 'pw8'"],
    ],
  ];
  it.each(cases)('%s', (sql, redacted, secrets) => {
    const out = redact(sql);
    expect(out.text).toBe(redacted);
    expect([...out.secrets].sort()).toEqual([...secrets].sort());
  });
});

describe('texts without secrets', () => {
  it.each([
    "SELECT 'PASSWORD ''x''' AS password",
    "SET password_encryption = 'scram-sha-256'",
    "ALTER ROLE app VALID UNTIL 'infinity'",
    "CREATE USER MAPPING FOR bob SERVER s OPTIONS (user 'bob')",
    "SELECT dblink('dbname=x', 'SELECT 1')",
    'SELECT 1',
  ])('%s is left as it is', (sql) => {
    expect(redact(sql)).toEqual({ text: sql, secrets: [] });
  });
});

describe('a secret that cannot be located', () => {
  it('takes the whole statement out, and still reports the value', async () => {
    const parser = await loadPgParser();
    const text = "SELECT 1; SELECT 'zzz'; SELECT 2";
    const out = redactSecrets(
      text,
      [{ type: 'option', location: 10, name: 'password', value: 'zzz', statement: { start: 10, end: 22 } }],
      parser,
    );
    expect(out.text).toBe(`SELECT 1; ${REDACTED_STATEMENT}; SELECT 2`);
    expect(out.secrets).toEqual(['zzz']);
  });
});

describe('literalBody', () => {
  it.each([
    ["'a''b'", "a''b"],
    ["E'a\\'b'", "a\\'b"],
    ["U&'x'", 'x'],
    ['$$x$$', 'x'],
    ['$t$x$t$', 'x'],
    ['$$', ''],
  ])('%s → %s', (raw, body) => {
    expect(literalBody(raw)).toBe(body);
  });
});
