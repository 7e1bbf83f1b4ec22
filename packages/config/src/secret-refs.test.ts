// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are config text with ${env:…} references, not templates
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveSecretRefs } from './secret-refs.js';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-secret-refs-'));
writeFileSync(join(dir, 'pw.txt'), 's3cret-from-file\n\n');
writeFileSync(join(dir, 'crlf.txt'), 'windows-secret\r\n');
writeFileSync(join(dir, 'empty.txt'), '\n');
mkdirSync(join(dir, 'keys'));
writeFileSync(join(dir, 'keys', 'key.pem'), '-----BEGIN KEY-----\nabc\n-----END KEY-----\n');

const env = { PW: 'env-secret', EMPTY: '' };
const resolve = (value: unknown) => resolveSecretRefs(value, { env, baseDir: dir });

describe('resolveSecretRefs', () => {
  it.each([
    ['${env:PW}', 'env-secret', ['env-secret']],
    ['postgres://app:${env:PW}@db/orders', 'postgres://app:env-secret@db/orders', ['env-secret']],
    ['${file:pw.txt}', 's3cret-from-file', ['s3cret-from-file']],
    ['${file:crlf.txt}', 'windows-secret', ['windows-secret']],
    [
      '${file:keys/key.pem}',
      '-----BEGIN KEY-----\nabc\n-----END KEY-----',
      ['-----BEGIN KEY-----\nabc\n-----END KEY-----'],
    ],
    ['$${env:PW}', '${env:PW}', []],
    ['price: $5 {x}', 'price: $5 {x}', []],
    ['a$$b', 'a$$b', []],
    ['^select .*$', '^select .*$', []],
    ['${env:PW}-${file:pw.txt}', 'env-secret-s3cret-from-file', ['env-secret', 's3cret-from-file']],
  ])('%j → %j', (input, expected, secrets) => {
    const out = resolve({ key: input });
    expect(out.problems).toEqual([]);
    expect(out.data).toEqual({ key: expected });
    expect([...out.secrets]).toEqual(secrets);
  });

  it('resolves inside lists and nested mappings, never in keys, and drops null values', () => {
    const out = resolve({ a: [{ b: '${env:PW}' }], '${env:PW}': 1, gone: null });
    expect(out.data).toEqual({ a: [{ b: 'env-secret' }], '${env:PW}': 1 });
  });

  it('keeps a __proto__ key as a plain key', () => {
    const input = JSON.parse('{"__proto__": {"polluted": true}}');
    const out = resolve(input).data as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__']);
  });

  it.each([
    ['${env:MISSING}', 'environment variable MISSING is not set'],
    ['${env:EMPTY}', 'environment variable EMPTY is empty'],
    ['${env:BAD-NAME}', 'bad environment variable name "BAD-NAME"'],
    ['${file:nope.txt}', 'cannot read secret file "nope.txt": no such file (ENOENT)'],
    ['${file:keys}', 'cannot read secret file "keys": not a regular file'],
    ['${file:empty.txt}', 'cannot read secret file "empty.txt": the file is empty'],
    ['${file:}', 'empty file name'],
    ['${vault:x}', 'unknown reference "${vault…}"'],
    ['${PW}', 'unknown reference "${PW…}"'],
    ['${env:PW', 'unterminated secret reference'],
    ['${file:${env:PW}}', 'cannot be nested'],
  ])('%j fails: %s', (input, message) => {
    const out = resolve({ section: { key: input } });
    expect(out.problems).toHaveLength(1);
    expect(out.problems[0]?.path).toEqual(['section', 'key']);
    expect(out.problems[0]?.message).toContain(message);
    expect(out.problems[0]?.message).not.toContain('env-secret');
  });
});
