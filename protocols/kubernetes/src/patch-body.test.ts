import { describe, expect, it } from 'vitest';
import { checkPatchBody } from './patch-body.js';

const check = (type: string | undefined, body: string) => checkPatchBody(type, Buffer.from(body));

describe('checkPatchBody', () => {
  it.each([
    ['application/json-patch+json', '[{"op":"replace","path":"/spec/replicas","value":3}]', 'json'],
    [
      'application/json-patch+json',
      '[{"op":"move","from":"/a","path":"/b"},{"op":"remove","path":"/c"}]',
      'json',
    ],
    ['application/json-patch+json', '[]', 'json'],
    ['application/merge-patch+json', '{"metadata":{"labels":{"a":null}}}', 'merge'],
    ['application/merge-patch+json; charset=utf-8', '{}', 'merge'],
    [
      'application/strategic-merge-patch+json',
      '{"spec":{"$setElementOrder/containers":[{"name":"a"}]}}',
      'strategic',
    ],
    ['application/apply-patch+yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n', 'apply'],
    ['application/apply-patch+yaml', '{"apiVersion":"v1","kind":"ConfigMap"}', 'apply'],
  ])('accepts %s %s', (type, body, expected) => {
    expect(check(type, body)).toEqual({ ok: true, type: expected });
  });

  it.each([
    ['application/json-patch+json', '{"op":"add","path":"/a","value":1}', 'must be an array'],
    ['application/json-patch+json', '[{"op":"add","path":"/a"}]', 'has no "value"'],
    ['application/json-patch+json', '[{"op":"copy","path":"/a"}]', 'has no "from"'],
    ['application/json-patch+json', '[{"op":"explode","path":"/a"}]', 'no known "op"'],
    ['application/json-patch+json', '[{"op":"remove"}]', 'has no "path"'],
    ['application/json-patch+json', '[{"op":"remove","path":"/a"}] trailing', 'does not decode'],
    ['application/merge-patch+json', '[1]', 'must be a JSON object'],
    ['application/merge-patch+json', 'null', 'must be a JSON object'],
    ['application/strategic-merge-patch+json', '{"a":', 'does not decode'],
    ['application/apply-patch+yaml', 'a: 1\na: 2\n', 'does not decode'],
    ['application/apply-patch+yaml', '- a\n- b\n', 'not a mapping'],
    ['application/apply-patch+yaml', 'a: 1\n---\nb: 2\n', 'does not decode'],
    ['application/apply-patch+yaml', 'a: &x [*x]\n', 'does not decode'],
  ])('refuses %s %s with 400', (type, body, why) => {
    const r = check(type, body);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe(400);
      expect(r.message).toContain(why);
    }
  });

  it('refuses bodies that are not UTF-8', () => {
    expect(checkPatchBody('application/merge-patch+json', Buffer.from([0x7b, 0xff, 0x7d]))).toMatchObject({
      ok: false,
      code: 400,
    });
  });

  it.each([
    undefined,
    'application/json',
    'application/apply-patch+cbor',
    'application/vnd.kubernetes.protobuf',
  ])('refuses content type %s with 415', (type) => {
    expect(check(type, '{}')).toMatchObject({ ok: false, code: 415 });
  });

  it('stops YAML alias expansion bombs', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 0; i < 8; i++)
      bomb.push(
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(97 + i)}`)
          .join(',')}]`,
      );
    expect(check('application/apply-patch+yaml', bomb.join('\n'))).toMatchObject({ ok: false, code: 400 });
  });
});
