import type { Identity } from '@gatehouse/core';
import { ProtocolError } from '@gatehouse/core';
import { compilePolicy, type PolicyConfig } from '@gatehouse/policy';
import { beforeAll, describe, expect, it } from 'vitest';
import { initSqlAnalyzer } from '../sql/index.js';
import { type DataRowValue, encodeDataRow, readDataRow } from '../wire/index.js';
import type { FieldInfo } from './column-plan.js';
import { analyzeLineage } from './lineage-analyzer.js';
import { OPAQUE_LINEAGE } from './lineage-types.js';
import { createResultMasker, type ResultMaskerOptions } from './result-masker.js';

const identity: Identity = { subject: 'agent-1', groups: ['agents'], issuer: 'test' };

function policyMasker(
  masking: PolicyConfig['masking'] = { rules: [{ name: 'pii', columns: ['email', 'ssn', 'birth_date'] }] },
) {
  return compilePolicy({ connections: [{ name: 'pg' }], masking }).masker('pg', identity);
}

const OID = {
  text: 25,
  varchar: 1043,
  bpchar: 1042,
  int4: 23,
  int8: 20,
  numeric: 1700,
  float8: 701,
  bytea: 17,
  json: 114,
  jsonb: 3802,
  textArray: 1009,
  record: 2249,
  date: 1082,
  bool: 16,
  uuid: 2950,
  int8Array: 1016,
};

function field(name: string, typeOID: number, format: 0 | 1 = 0, tableOID = 0, columnAttr = 0): FieldInfo {
  return { name, typeOID, format, tableOID, columnAttr, typeSize: -1, typeModifier: -1 };
}

function masker(options: ResultMaskerOptions = {}, config?: PolicyConfig['masking']) {
  return createResultMasker(policyMasker(config), options);
}

/** Masks one row and returns its values (text decoded for readability, NULL as null). */
function maskRow(
  fields: FieldInfo[],
  values: DataRowValue[],
  options?: ResultMaskerOptions,
  sql?: string,
): (Buffer | null)[] {
  const rm = masker(options).startResult(fields, sql === undefined ? undefined : analyzeLineage(sql));
  return readDataRow(rm.maskDataRow(encodeDataRow(values)));
}

const text = (v: Buffer | null | undefined): string | null =>
  v === null || v === undefined ? null : v.toString('utf8');

function int8(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(n);
  return b;
}

function binaryArray(elementType: number, elements: (Buffer | null)[]): Buffer {
  const head = Buffer.alloc(20);
  head.writeInt32BE(1, 0);
  head.writeInt32BE(elements.some((e) => e === null) ? 1 : 0, 4);
  head.writeUInt32BE(elementType, 8);
  head.writeInt32BE(elements.length, 12);
  head.writeInt32BE(1, 16);
  return Buffer.concat([head, ...elements.map((e) => lengthPrefixed(e))]);
}

function binaryRecord(fields: [number, Buffer | null][]): Buffer {
  const head = Buffer.alloc(4);
  head.writeInt32BE(fields.length);
  return Buffer.concat([head, ...fields.map(([oid, v]) => Buffer.concat([uint32(oid), lengthPrefixed(v)]))]);
}

function lengthPrefixed(v: Buffer | null): Buffer {
  const len = Buffer.alloc(4);
  len.writeInt32BE(v === null ? -1 : v.length);
  return v === null ? len : Buffer.concat([len, v]);
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** numeric_send of a non-negative integer. */
function numeric(digits: string): Buffer {
  const groups: number[] = [];
  for (let end = digits.length; end > 0; end -= 4)
    groups.unshift(Number(digits.slice(Math.max(0, end - 4), end)));
  const b = Buffer.alloc(8 + groups.length * 2);
  b.writeInt16BE(groups.length, 0);
  b.writeInt16BE(groups.length - 1, 2);
  b.writeUInt16BE(0, 4);
  b.writeInt16BE(0, 6);
  groups.forEach((g, i) => {
    b.writeInt16BE(g, 8 + i * 2);
  });
  return b;
}

beforeAll(async () => {
  await initSqlAnalyzer();
});

describe('DataRow masking by type and format', () => {
  const CARD = '4111111111111111';
  // [what, field, value, expected value (text) or null]
  const CASES: Array<[string, FieldInfo, DataRowValue, string | Buffer | null]> = [
    ['text column named by a rule', field('email', OID.text), 'bob@example.com', '****'],
    ['varchar column named by a rule, any case', field('EMAIL', OID.varchar), 'anything', '****'],
    ['free text: detectors', field('notes', OID.text), 'call bob@example.com today', 'call **** today'],
    [
      'multi-byte UTF-8 around a finding',
      field('notes', OID.text),
      'Zoë → zoë@exämple.com ✓',
      'Zoë → **** ✓',
    ],
    [
      'no finding: unchanged',
      field('notes', OID.text),
      'nothing to see, order 42',
      'nothing to see, order 42',
    ],
    ['binary text', field('notes', OID.text, 1), Buffer.from('mail bob@example.com'), 'mail ****'],
    ['binary bpchar named by a rule', field('ssn', OID.bpchar, 1), Buffer.from('123-45-6789'), '****'],
    ['text-format int8 card number → NULL', field('ref', OID.int8), CARD, null],
    ['binary int8 card number → NULL', field('ref', OID.int8, 1), int8(4111111111111111n), null],
    [
      'binary int8 ordinary number',
      field('ref', OID.int8, 1),
      int8(4111111111111112n),
      int8(4111111111111112n),
    ],
    ['binary numeric card number → NULL', field('ref', OID.numeric, 1), numeric(CARD), null],
    [
      'binary float8 card number → NULL',
      field('ref', OID.float8, 1),
      (() => {
        const b = Buffer.alloc(8);
        b.writeDoubleBE(4111111111111111);
        return b;
      })(),
      null,
    ],
    ['text date named by a rule → NULL', field('birth_date', OID.date), '1990-01-01', null],
    ['binary date named by a rule → NULL', field('birth_date', OID.date, 1), Buffer.alloc(4), null],
    [
      'uuid: no detectors',
      field('id', OID.uuid),
      '41111111-1111-1111-1111-111111111111',
      '41111111-1111-1111-1111-111111111111',
    ],
    [
      'text array: element by element',
      field('contacts', OID.textArray),
      '{bob@example.com,"x, y",NULL}',
      '{"****","x, y",NULL}',
    ],
    ['text array named by a rule', field('email', OID.textArray), '{a,b}', '{"****","****"}'],
    [
      'bytea hex with an email inside',
      field('blob', OID.bytea),
      `\\x${Buffer.from('\u0001mail bob@example.com\u0002').toString('hex')}`,
      `\\x${Buffer.from('\u0001mail ****\u0002').toString('hex')}`,
    ],
    [
      'bytea binary',
      field('blob', OID.bytea, 1),
      Buffer.from('\u0000bob@example.com \u00ff', 'latin1'),
      Buffer.from('\u0000**** \u00ff', 'latin1'),
    ],
    ['record text', field('r', OID.record), '(1,"bob@example.com",)', '(1,"****",)'],
    [
      'json text: key rule and detectors',
      field('profile', OID.json),
      '{"email": "x", "note": "mail bob@example.com", "n": 1}',
      '{"email": "****", "note": "mail ****", "n": 1}',
    ],
    [
      'json nested key rule covers the subtree',
      field('profile', OID.json),
      '{"ssn": {"v": ["1", 2, true]}}',
      '{"ssn": {"v": ["****", "****", true]}}',
    ],
    [
      'json column named by a rule: every leaf',
      field('email', OID.json),
      '{"a": "x", "b": [1, null]}',
      '{"a": "****", "b": ["****", null]}',
    ],
    ['json number holding a card', field('profile', OID.json), `{"c": ${CARD}}`, '{"c": "****"}'],
    ['json that is not JSON falls back to detectors', field('profile', OID.json), 'bob@example.com', '****'],
    [
      'jsonb binary',
      field('profile', OID.jsonb, 1),
      Buffer.concat([Buffer.from([1]), Buffer.from('{"email": "x"}')]),
      '\u0001{"email": "****"}',
    ],
    ['unknown OID text (enum, citext)', field('c', 99999), 'bob@example.com', '****'],
    ['unknown OID binary text', field('c', 99999, 1), Buffer.from('bob@example.com'), '****'],
    [
      'unknown OID binary opaque with a finding → NULL',
      field('c', 99999, 1),
      Buffer.from('\u0000\u0001bob@example.com', 'latin1'),
      null,
    ],
  ];

  it.each(CASES)('%s', (_, f, value, expected) => {
    const [out] = maskRow([f], [value]);
    if (expected === null) expect(out).toBeNull();
    else if (Buffer.isBuffer(expected)) expect(out).toEqual(expected);
    else expect(text(out)).toBe(expected);
  });

  it('keeps NULLs and returns the same buffer when nothing changes', () => {
    const rm = masker().startResult([field('email', OID.text), field('notes', OID.text)]);
    const row = encodeDataRow([null, 'plain']);
    expect(rm.maskDataRow(row)).toBe(row);
    expect(rm.active).toBe(true);
    const idle = masker().startResult([field('id', OID.uuid), field('ok', OID.bool)]);
    expect(idle.active).toBe(false);
  });

  it('sends masked numbers as text when configured, in text format only', () => {
    const [t] = maskRow([field('ref', OID.int8)], ['4111111111111111'], { typedValues: 'text' });
    expect(text(t)).toBe('****');
    const [b] = maskRow([field('ref', OID.int8, 1)], [int8(4111111111111111n)], { typedValues: 'text' });
    expect(b).toBeNull();
  });

  it('reports values replaced by NULL in a notice', () => {
    const rm = masker().startResult([field('ref', OID.int8, 1), field('n', OID.text)]);
    expect(rm.notice()).toBeUndefined();
    rm.maskDataRow(encodeDataRow([int8(4111111111111111n), 'x']));
    rm.maskDataRow(encodeDataRow([int8(5n), 'x']));
    expect(rm.notice()).toMatchObject({
      severity: 'NOTICE',
      code: '01000',
      message: 'gatehouse masked 1 value as NULL',
    });
    expect(rm.notice()?.detail).toContain('"ref"');
    expect(rm.stats()).toEqual({ rows: 2, maskedRows: 1, nulled: 1 });
  });

  it('masks binary arrays and records element by element', () => {
    const arr = binaryArray(OID.text, [Buffer.from('bob@example.com'), null, Buffer.from('ok')]);
    const [a] = maskRow([field('contacts', OID.textArray, 1)], [arr]);
    expect(a).toEqual(binaryArray(OID.text, [Buffer.from('****'), null, Buffer.from('ok')]));
    const ints = binaryArray(OID.int8, [int8(4111111111111111n), int8(7n)]);
    const [i] = maskRow([field('refs', OID.int8Array, 1)], [ints]);
    expect(i).toEqual(binaryArray(OID.int8, [null, int8(7n)]));
    const rec = binaryRecord([
      [OID.int4, Buffer.from([0, 0, 0, 1])],
      [OID.text, Buffer.from('bob@example.com')],
    ]);
    const [r] = maskRow([field('r', OID.record, 1)], [rec]);
    expect(r).toEqual(
      binaryRecord([
        [OID.int4, Buffer.from([0, 0, 0, 1])],
        [OID.text, Buffer.from('****')],
      ]),
    );
    // A composite of a type made at run time is recognised by its shape.
    const [c] = maskRow([field('u', 123456, 1)], [rec]);
    expect(c).toEqual(r);
  });
});

describe('lineage', () => {
  const users = 16400;

  it('masks values computed from a covered column however they are transformed', () => {
    const sql =
      "SELECT upper(email), email::text AS c, 'x' || email, encode(convert_to(email, 'UTF8'), 'base64'), name FROM users";
    const fields = [
      field('upper', OID.text),
      field('c', OID.text),
      field('?column?', OID.text),
      field('encode', OID.text),
      field('name', OID.text),
    ];
    const out = maskRow(fields, ['BOB@EXAMPLE.COM', 'bob', 'xbob', 'Ym9iQGV4YW1wbGUuY29t', 'Bob'], {}, sql);
    expect(out.map(text)).toEqual(['****', '****', '****', '****', 'Bob']);
  });

  it('lines up `*` with the RowDescription', () => {
    const sql = 'SELECT upper(name) AS n, u.*, length(email) FROM users u';
    const fields = [
      field('n', OID.text),
      field('id', OID.int4, 0, users, 1),
      field('contact', OID.text, 0, users, 2),
      field('note', OID.text, 0, users, 3),
      field('length', OID.int4),
    ];
    const out = maskRow(fields, ['BOB', '1', 'hidden-by-name-only?', 'hi', '15'], {}, sql);
    // `contact` comes from the star, so only its own name counts: not covered; length(email) is.
    expect(out.map(text)).toEqual(['BOB', '1', 'hidden-by-name-only?', 'hi', null]);
  });

  it('lines up several stars by table OID and attribute numbers', () => {
    const sql = 'SELECT u.*, o.*, o.total + 1 FROM users u JOIN orders o ON o.user_id = u.id';
    const fields = [
      field('id', OID.int4, 0, users, 1),
      field('email', OID.text, 0, users, 2),
      field('id', OID.int4, 0, 16500, 1),
      field('total', OID.int4, 0, 16500, 3),
      field('?column?', OID.int4),
    ];
    const out = maskRow(fields, ['1', 'a@b.cd', '2', '3', '4'], {}, sql);
    expect(out.map(text)).toEqual(['1', '****', '2', '3', '4']);
  });

  it('masks row_to_json by its keys, and subquery rows by their lineage', () => {
    const sql = 'SELECT row_to_json(u) FROM users u';
    const [j] = maskRow([field('row_to_json', OID.json)], ['{"id":1,"email":"x","name":"Bob"}'], {}, sql);
    expect(text(j)).toBe('{"id":1,"email":"****","name":"Bob"}');
    const sub = 'SELECT row_to_json(t) FROM (SELECT email AS e, id FROM users) t';
    const [s] = maskRow([field('row_to_json', OID.json)], ['{"e":"x","id":1}'], {}, sub);
    expect(text(s)).toBe('{"e":"****","id":1}');
    const subAgg = 'SELECT json_agg(t) FROM (SELECT email AS e, id FROM users) t';
    const [sa] = maskRow([field('json_agg', OID.json)], ['[{"e":"x","id":1},{"e":"y","id":2}]'], {}, subAgg);
    expect(text(sa)).toBe('[{"e":"****","id":1},{"e":"****","id":2}]');
    const agg = 'SELECT json_agg(u) FROM users u';
    const [a] = maskRow([field('json_agg', OID.json)], ['[{"email":"a"},{"email":"b","id":2}]'], {}, agg);
    expect(text(a)).toBe('[{"email":"****"},{"email":"****","id":2}]');
  });

  it('masks whole rows that are not JSON unless the table is known to hold no covered column', () => {
    const sql = 'SELECT u::text FROM users u';
    const value = '(1,Bob,bob@example.com)';
    expect(text(maskRow([field('u', OID.text)], [value], {}, sql)[0])).toBe('****');
    const known = { tableColumns: (t: string) => (t === 'users' ? ['id', 'name', 'contact'] : undefined) };
    expect(text(maskRow([field('u', OID.text)], [value], known, sql)[0])).toBe('(1,Bob,****)');
    // Text that is JSON is masked by its keys even when typed text.
    const json = 'SELECT row_to_json(u)::text FROM users u';
    expect(text(maskRow([field('row_to_json', OID.text)], ['{"email":"x","id":1}'], {}, json)[0])).toBe(
      '{"email":"****","id":1}',
    );
  });

  it('uses catalog hints for aliased columns', () => {
    const columnName = (table: number, attr: number) => (table === users && attr === 2 ? 'email' : undefined);
    const [v] = maskRow([field('contact', OID.text, 0, users, 2)], ['x'], { columnName });
    expect(text(v)).toBe('****');
  });

  it('masks every column of an opaque statement, and nothing by lineage without column rules', () => {
    const rm = masker().startResult([field('a', OID.text), field('b', OID.int4)], OPAQUE_LINEAGE);
    expect(readDataRow(rm.maskDataRow(encodeDataRow(['x', '1']))).map(text)).toEqual(['****', null]);
    // The masker says it has no column rules (Masker.hasColumnRules).
    const detectorsOnly = createResultMasker(policyMasker({ rules: [{ name: 'd', detectors: ['email'] }] }));
    const plain = detectorsOnly.startResult([field('a', OID.text)], OPAQUE_LINEAGE);
    const row = encodeDataRow(['x']);
    expect(plain.maskDataRow(row)).toBe(row);
  });

  it('falls back to every source when lineage and RowDescription do not line up', () => {
    const sql = 'SELECT upper(email), id FROM users';
    const out = maskRow(
      [field('a', OID.text), field('b', OID.text), field('c', OID.text, 0, users, 1)],
      ['X', 'Y', 'Z'],
      {},
      sql,
    );
    expect(out.map(text)).toEqual(['****', '****', 'Z']);
  });

  it('masks columns of undescribed results by shape and lineage', () => {
    const rm = masker().startResult(undefined, analyzeLineage('SELECT upper(email), note FROM users'));
    const out = readDataRow(
      rm.maskDataRow(encodeDataRow(['X', 'mail bob@example.com', int8(4111111111111111n)])),
    );
    expect(out.map(text)).toEqual(['****', 'mail ****', null]);
  });

  it('masks a view column by its name, and detectors cover what lineage cannot see', () => {
    const sql = 'SELECT contact, email FROM customer_view';
    const out = maskRow(
      [field('contact', OID.text), field('email', OID.text)],
      ['bob@example.com', 'x'],
      {},
      sql,
    );
    expect(out.map(text)).toEqual(['****', '****']);
  });
});

describe('DataRow framing', () => {
  it('refuses malformed rows with a ProtocolError', () => {
    const rm = masker().startResult([field('notes', OID.text)]);
    const good = encodeDataRow(['bob@example.com']);
    expect(() => rm.maskDataRow(good.subarray(0, good.length - 1))).toThrow(ProtocolError);
    expect(() => rm.maskDataRow(Buffer.from('X\u0000\u0000\u0000\u0006\u0000\u0000'))).toThrow(ProtocolError);
    const bad = Buffer.from(good);
    bad.writeInt32BE(1000, 7);
    expect(() => rm.maskDataRow(bad)).toThrow(ProtocolError);
  });

  it('accepts pg-protocol field shapes and { fields }', () => {
    const rm = masker().startResult({
      fields: [
        {
          name: 'email',
          tableID: 0,
          columnID: 0,
          dataTypeID: 25,
          dataTypeSize: -1,
          dataTypeModifier: -1,
          format: 'text',
        },
      ],
    });
    expect(text(readDataRow(rm.maskDataRow(encodeDataRow(['x'])))[0])).toBe('****');
  });
});
