import type { Identity } from '@gatehouse/core';
import { ProtocolError } from '@gatehouse/core';
import { compilePolicy } from '@gatehouse/policy';
import { describe, expect, it } from 'vitest';
import { errorResponse, noticeResponse } from '../wire/index.js';
import { createResultMasker } from './result-masker.js';

const identity: Identity = { subject: 'agent-1', groups: [], issuer: 'test' };
const policy = compilePolicy({
  connections: [{ name: 'pg' }],
  masking: { rules: [{ name: 'pii', columns: ['email', 'salary'], style: 'full' }] },
}).masker('pg', identity);
const rm = createResultMasker(policy);

describe('error and notice fields', () => {
  const CASES: Array<[string, Record<string, string>, Record<string, string>]> = [
    [
      'unique violation: the key value by its column rule',
      {
        code: '23505',
        message: 'duplicate key value violates unique constraint "users_email_key"',
        detail: 'Key (email)=(bob) already exists.',
        table: 'users',
      },
      { detail: 'Key (email)=(****) already exists.' },
    ],
    [
      'composite key with an expression over a covered column',
      { message: 'x', detail: 'Key (tenant_id, lower(email::text))=(5, bob) already exists.' },
      { detail: 'Key (tenant_id, lower(email::text))=(****) already exists.' },
    ],
    [
      'foreign key violation on an uncovered column: detectors only',
      { message: 'x', detail: 'Key (owner)=(bob@example.com) is not present in table "users".' },
      { detail: 'Key (owner)=(****) is not present in table "users".' },
    ],
    [
      'exclusion constraint: both keys',
      { message: 'x', detail: 'Key (email)=(a) conflicts with existing key (email)=(b).' },
      { detail: 'Key (email)=(****) conflicts with existing key (email)=(****).' },
    ],
    [
      'invalid input echoing a card number',
      { message: 'invalid input syntax for type integer: "4111 1111 1111 1111"' },
      { message: 'invalid input syntax for type integer: "****"' },
    ],
    [
      'failing row of a table whose columns are unknown: masked whole',
      {
        message: 'new row violates check constraint "c"',
        detail: 'Failing row contains (1, Bob, 90000).',
        table: 'people',
      },
      { detail: 'Failing row contains (****).' },
    ],
    [
      'COPY context names the column',
      { message: 'x', where: 'COPY people, line 2, column salary: "90000"' },
      { where: 'COPY people, line 2, column salary: "****"' },
    ],
    [
      'hint, internal query and where go through the detectors',
      {
        message: 'x',
        hint: 'ask bob@example.com',
        internalQuery: "SELECT 'AKIAIOSFODNN7EXAMPLE'",
        where: 'PL/pgSQL function f() line 3 at RAISE: bob@example.com',
      },
      {
        hint: 'ask ****',
        internalQuery: "SELECT '****'",
        where: 'PL/pgSQL function f() line 3 at RAISE: ****',
      },
    ],
  ];

  it.each(CASES)('%s', (_, fields, changed) => {
    const input = { severity: 'ERROR', code: 'XX000', ...fields };
    expect(rm.maskErrorFields(input)).toEqual({ ...input, ...changed });
  });

  it('keeps the failing row when the table is known to hold no covered column', () => {
    const hinted = createResultMasker(policy, { tableColumns: () => ['id', 'name'] });
    const fields = {
      severity: 'ERROR',
      code: '23514',
      message: 'x',
      detail: 'Failing row contains (1, Bob).',
      table: 'people',
    };
    expect(hinted.maskErrorFields(fields)).toBe(fields);
  });

  it('returns the same object when nothing changes, and leaves codes and positions alone', () => {
    const fields = {
      severity: 'ERROR',
      code: '42P01',
      message: 'relation "nope" does not exist',
      position: '15',
    };
    expect(rm.maskErrorFields(fields)).toBe(fields);
  });

  it('keeps an Error prototype', () => {
    class DatabaseError extends Error {
      detail = 'Key (email)=(bob) already exists.';
    }
    const err = new DatabaseError('dup');
    const masked = rm.maskErrorFields(err as DatabaseError & Record<string, unknown>);
    expect(masked).toBeInstanceOf(DatabaseError);
    expect(masked.detail).toBe('Key (email)=(****) already exists.');
  });

  it('rewrites raw ErrorResponse and NoticeResponse messages, same buffer when unchanged', () => {
    const raw = errorResponse({
      severity: 'ERROR',
      code: '23505',
      message: 'dup',
      detail: 'Key (email)=(bob@example.com) already exists.',
    });
    const masked = rm.maskErrorMessage(raw);
    expect(masked).toEqual(
      errorResponse({
        severity: 'ERROR',
        code: '23505',
        message: 'dup',
        detail: 'Key (email)=(****) already exists.',
      }),
    );
    const notice = noticeResponse({ severity: 'NOTICE', code: '00000', message: 'all fine' });
    expect(rm.maskErrorMessage(notice)).toBe(notice);
    expect(() => rm.maskErrorMessage(raw.subarray(0, raw.length - 1))).toThrow(ProtocolError);
    expect(() => rm.maskErrorMessage(Buffer.from('E\u0000\u0000\u0000\u0005M', 'latin1'))).toThrow(
      ProtocolError,
    );
  });

  it('masks notification payloads', () => {
    expect(rm.maskNotification('{"user":"bob@example.com"}')).toBe('{"user":"****"}');
    expect(rm.maskNotification('job 42 done')).toBe('job 42 done');
  });
});
