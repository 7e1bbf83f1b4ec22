import type { Identity } from '@gatehouse/core';
import { ProtocolError } from '@gatehouse/core';
import { compilePolicy } from '@gatehouse/policy';
import { beforeAll, describe, expect, it } from 'vitest';
import { initSqlAnalyzer } from '../sql/index.js';
import { copyData } from '../wire/index.js';
import { decodeTextField, encodeTextField } from './copy-text.js';
import { analyzeLineage } from './lineage-analyzer.js';
import { createResultMasker, type ResultMaskerOptions } from './result-masker.js';

const identity: Identity = { subject: 'agent-1', groups: [], issuer: 'test' };
const policy = compilePolicy({
  connections: [{ name: 'pg' }],
  masking: { rules: [{ name: 'pii', columns: ['email', 'ssn'] }] },
}).masker('pg', identity);

beforeAll(async () => {
  await initSqlAnalyzer();
});

/** Runs COPY data through a fresh CopyMasker in the given chunks; returns the payload sent. */
function run(sql: string, chunks: Buffer[], options: ResultMaskerOptions = {}, names?: string[]): Buffer {
  const lineage = analyzeLineage(sql);
  const rm = createResultMasker(policy, options);
  const format = lineage?.copy?.format === 'binary' ? 1 : 0;
  const state = rm.startCopy({ format, options: lineage?.copy }, { lineage, names });
  const out: Buffer[] = [];
  for (const c of chunks) {
    const msg = rm.maskCopyData(copyData(c), state);
    if (msg !== undefined) out.push(msg.subarray(5));
  }
  const rest = state.finish();
  if (rest !== undefined) out.push(rest.subarray(5));
  return Buffer.concat(out);
}

/** Every way of cutting `data` in two, plus byte by byte. */
function splits(data: Buffer): Buffer[][] {
  const out: Buffer[][] = [[data]];
  for (let i = 1; i < data.length; i++) out.push([data.subarray(0, i), data.subarray(i)]);
  out.push([...data].map((b) => Buffer.from([b])));
  return out;
}

describe('COPY text format', () => {
  const sql = 'COPY (SELECT id, email, note FROM users) TO STDOUT';
  const input = Buffer.from(
    '1\tbob@example.com\tcall bob@example.com\n2\t\\N\tline\\nbreak\\tand a\\\\ tab\n3\tx\t4111 1111 1111 1111\n',
  );
  const expected = '1\t****\tcall ****\n2\t\\N\tline\\nbreak\\tand a\\\\ tab\n3\t****\t****\n';

  it('masks by column name, lineage and detectors, keeping NULLs and escapes', () => {
    expect(run(sql, [input]).toString()).toBe(expected);
  });

  it('gives the same bytes however rows are split across CopyData messages', () => {
    for (const chunks of splits(input)) expect(run(sql, chunks).toString()).toBe(expected);
  });

  it('passes an unchanged message through as the same buffer', () => {
    const rm = createResultMasker(policy);
    const lineage = analyzeLineage('COPY (SELECT id, note FROM users) TO STDOUT');
    const state = rm.startCopy({ format: 0, options: lineage?.copy }, { lineage });
    const msg = copyData(Buffer.from('1\tnothing here\n'));
    expect(state.maskCopyData(msg)).toBe(msg);
    expect(state.finish()).toBeUndefined();
  });

  it('re-escapes masked values and handles a custom delimiter, NULL marker and header', () => {
    const custom = "COPY (SELECT note, email FROM users) TO STDOUT WITH (DELIMITER '|', NULL 'nil', HEADER)";
    const data = Buffer.from('note|email\nmail bob@example.com|nil\nx\\|y|a\n');
    expect(run(custom, [data]).toString()).toBe('note|email\nmail ****|nil\nx\\|y|****\n');
  });

  it('masks every column of a table whose columns are unknown, and only covered ones when known', () => {
    const data = Buffer.from('1\tBob\tsecret\n');
    expect(run('COPY users TO STDOUT', [data]).toString()).toBe('****\t****\t****\n');
    const tableColumns = (t: string) => (t === 'users' ? ['id', 'name', 'ssn'] : undefined);
    expect(run('COPY users TO STDOUT', [data], { tableColumns }).toString()).toBe('1\tBob\t****\n');
    expect(run('COPY users TO STDOUT', [data], {}, ['id', 'name', 'ssn']).toString()).toBe('1\tBob\t****\n');
    expect(run('COPY users (id, ssn) TO STDOUT', [Buffer.from('1\tx\n')]).toString()).toBe('1\t****\n');
  });

  it('decodes and encodes COPY text escapes as PostgreSQL does', () => {
    expect(decodeTextField(Buffer.from('a\\tb\\nc\\\\d\\101\\x41\\.'))).toBe('a\tb\nc\\dAA.');
    expect(encodeTextField('a\tb\nc\\d|e\r\u000b\b\f', '|')).toBe('a\\tb\\nc\\\\d\\|e\\r\\v\\b\\f');
  });
});

describe('COPY CSV format', () => {
  const sql = 'COPY (SELECT id, email, note FROM users) TO STDOUT WITH (FORMAT csv, HEADER)';
  const input = Buffer.from(
    'id,email,note\n1,bob@example.com,"two\nlines, bob@example.com"\n2,,"say ""hi"""\n3,"",plain\n',
  );
  const expected = 'id,email,note\n1,"****","two\nlines, ****"\n2,,"say ""hi"""\n3,"",plain\n';

  it('masks quoted and unquoted fields, keeps NULL (empty) apart from the empty string', () => {
    expect(run(sql, [input]).toString()).toBe(expected);
  });

  it('follows quoted newlines across CopyData messages', () => {
    for (const chunks of splits(input)) expect(run(sql, chunks).toString()).toBe(expected);
  });

  it('escapes with a separate escape character', () => {
    const esc = "COPY (SELECT note FROM users) TO STDOUT WITH (FORMAT csv, ESCAPE '\\')";
    const data = Buffer.from('"a \\" bob@example.com"\n');
    expect(run(esc, [data]).toString()).toBe('"a \\" ****"\n');
  });
});

describe('COPY binary format', () => {
  const header = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
  const tuple = (values: (Buffer | null)[]): Buffer => {
    const parts: Buffer[] = [Buffer.alloc(2)];
    parts[0]?.writeInt16BE(values.length);
    for (const v of values) {
      const len = Buffer.alloc(4);
      len.writeInt32BE(v === null ? -1 : v.length);
      parts.push(len);
      if (v !== null) parts.push(v);
    }
    return Buffer.concat(parts);
  };
  const trailer = Buffer.from([0xff, 0xff]);
  const int4 = Buffer.from([0, 0, 0, 7]);
  const sql = 'COPY (SELECT id, email, note FROM users) TO STDOUT (FORMAT binary)';
  const input = Buffer.concat([
    header,
    tuple([int4, Buffer.from('x@y.zz'), Buffer.from('mail bob@example.com')]),
    tuple([int4, null, Buffer.from('plain')]),
    trailer,
  ]);
  const expected = Buffer.concat([
    header,
    tuple([int4, Buffer.from('****'), Buffer.from('mail ****')]),
    tuple([int4, null, Buffer.from('plain')]),
    trailer,
  ]);

  it('masks fields by name and detectors, keeping header, NULLs and trailer', () => {
    expect(run(sql, [input])).toEqual(expected);
  });

  it('gives the same bytes however tuples are split', () => {
    for (const chunks of splits(input)) expect(run(sql, chunks)).toEqual(expected);
  });

  it('refuses data without the signature and a stream ending inside a tuple', () => {
    expect(() => run(sql, [Buffer.from('NOTCOPY\n\xff\r\n\0xxxxxxxxxx', 'latin1')])).toThrow(ProtocolError);
    expect(() => run(sql, [input.subarray(0, header.length + 5)])).toThrow(ProtocolError);
  });

  it('refuses a malformed CopyData message', () => {
    const rm = createResultMasker(policy);
    const state = rm.startCopy({ format: 1 });
    expect(() => state.maskCopyData(Buffer.from([0x64, 0, 0, 0, 9]))).toThrow(ProtocolError);
  });
});
