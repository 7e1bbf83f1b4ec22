import type { Masker } from '@gatehouse/core';
import { compilePolicy } from '@gatehouse/policy';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonMasker, MaskingLimitError } from './json-masker.js';
import { fakeMasker } from './test-support/fake-masker.js';

function maskAll(text: string): string {
  const m = new JsonMasker(fakeMasker);
  return m.push(text) + m.end();
}

function maskPieces(pieces: readonly string[]): string {
  const m = new JsonMasker(fakeMasker);
  return pieces.map((p) => m.push(p)).join('') + m.end();
}

describe('JsonMasker', () => {
  it.each([
    ['plain string value', '{"email":"john@example.com"}', '{"email":"[email]"}'],
    ['untouched document stays byte for byte', '{ "n": 1.50, "id": 12345678901234567890, "ok": true }', null],
    [
      'nested arrays and objects',
      '{"users":[{"contacts":["a@b.io",{"x":"c@d.io"}],"name":"Al"}]}',
      '{"users":[{"contacts":["[email]",{"x":"[email]"}],"name":"Al"}]}',
    ],
    [
      'named field, also for array elements under it',
      '{"ssn":"123-45-6789","list":{"ssn":["1","2"]},"other":"123-45-6789"}',
      '{"ssn":"***","list":{"ssn":["***","***"]},"other":"123-45-6789"}',
    ],
    ['the field is the nearest key', '{"ssn":{"note":"x"}}', '{"ssn":{"note":"x"}}'],
    ['numbers are masked too', '{"card": 4111111111111111 }', '{"card": "[card]" }'],
    ['numbers under a named field', '{"ssn":123456789}', '{"ssn":"***"}'],
    ['keys go through the detectors', '{"a@b.io":1,"k":"v"}', '{"[email]":1,"k":"v"}'],
    ['escaped values are decoded first', '{"e":"jo\\u0068n@example.com"}', '{"e":"[email]"}'],
    ['escaped quotes inside strings', '{"e":"say \\"x@y.io\\""}', '{"e":"say \\"[email]\\""}'],
    ['top-level string', '"x@y.io"', '"[email]"'],
    ['NDJSON', '{"e":"a@b.io"}\n{"e":"c@d.io"}\n', '{"e":"[email]"}\n{"e":"[email]"}\n'],
    ['not JSON at all', 'hello john@example.com, bye', 'hello [email], bye'],
    ['garbage between values', '[1] 4111 1111 1111 1111 [2]', '[1] [card] [2]'],
    ['unterminated string', '{"e":"a@b.io', '{"e":"[email]'],
    ['invalid escape', '{"e":"\\x a@b.io"}', '{"e":"\\x [email]"}'],
  ])('%s', (_name, input, expected) => {
    expect(maskAll(input)).toBe(expected ?? input);
  });

  it('names each value by the path of keys leading to it', () => {
    const fields: (string | undefined)[] = [];
    const m = new JsonMasker({
      maskText: (t) => t,
      maskValue: (f, t) => {
        fields.push(f);
        return t;
      },
    });
    m.push('{"a":"1","customer":{"email":"2","tags":["3",{"k":"4"}]},"b":[["5"]],"c":6}');
    m.push(' "7"');
    m.end();
    expect(fields).toEqual(['a', 'customer.email', 'customer.tags', 'customer.tags.k', 'b', 'c', undefined]);
  });

  it('gives the same output however the input is cut in two', () => {
    const doc =
      '{"users":[{"email":"john.doe@example.com","ssn":"123-45-6789","card":4111111111111111,' +
      '"note":"call \\"x@y.io\\" \\u00e9","tags":["a","b@c.io"],"n":-1.5e3}],"ok":true,"z":null}\n';
    const whole = maskAll(doc);
    expect(whole).not.toMatch(/john|123-45|4111|x@y|b@c/);
    for (let cut = 0; cut <= doc.length; cut++) {
      expect(maskPieces([doc.slice(0, cut), doc.slice(cut)]), `cut at ${cut}`).toBe(whole);
    }
  });

  it('gives the same output for any chunking (property)', () => {
    const value = fc.oneof(
      fc.constantFrom('a@b.io', 'plain', '4111 1111 1111 1111', 'q"uote', 'back\\slash', 'é✓'),
      fc.string(),
    );
    const doc = fc
      .array(fc.tuple(fc.constantFrom('email', 'ssn', 'x'), value), { maxLength: 6 })
      .map((pairs) => JSON.stringify({ list: pairs.map(([k, v]) => ({ [k]: v })), n: 1.25 }));
    fc.assert(
      fc.property(doc, fc.array(fc.nat(), { maxLength: 6 }), (text, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
        const pieces: string[] = [];
        let last = 0;
        for (const p of points) {
          pieces.push(text.slice(last, p));
          last = p;
        }
        pieces.push(text.slice(last));
        const out = maskPieces(pieces);
        expect(out).toBe(maskAll(text));
        // Still valid JSON, and nothing detectable survives.
        const parsed = JSON.parse(out) as { list: Record<string, string>[] };
        for (const item of parsed.list) {
          for (const [k, v] of Object.entries(item)) {
            if (k === 'ssn') expect(v).toBe('***');
            expect(v).not.toMatch(/a@b\.io|4111 1111/);
          }
        }
      }),
    );
  });

  it('sends whole lines of a stream at once instead of waiting for the next piece', () => {
    const m = new JsonMasker(fakeMasker);
    expect(m.push('{"type":"ADDED","e":"a@b.io"}\n')).toBe('{"type":"ADDED","e":"[email]"}\n');
    expect(m.push('{"n":12')).toBe('{"n":');
    expect(m.push('3}\n')).toBe('123}\n');
    expect(m.end()).toBe('');
  });

  it('refuses a single token larger than the limit instead of holding it forever', () => {
    const m = new JsonMasker(fakeMasker, { maxToken: 100 });
    expect(m.push('{"big":"')).toBe('{"big":');
    expect(() => m.push('x'.repeat(200))).toThrow(MaskingLimitError);
  });

  it('keeps a long string across many pieces without rescanning from its start', () => {
    const m = new JsonMasker(fakeMasker);
    let out = m.push('{"v":"');
    for (let i = 0; i < 200; i++) out += m.push(`${'y'.repeat(1000)}\\"`);
    out += m.push(' a@b.io"}');
    out += m.end();
    expect(out.endsWith(' [email]"}')).toBe(true);
    expect(JSON.parse(out)).toMatchObject({ v: expect.stringContaining('yyy"yyy') });
  });
});

describe('JsonMasker with the policy engine masker', () => {
  it('applies field rules by path or last field, and the built-in detectors elsewhere', () => {
    const engine = compilePolicy({
      connections: [{ name: 'api' }],
      masking: {
        rules: [
          { name: 'billing', columns: ['customer.email'], style: 'full' },
          { name: 'ids', columns: ['ssn'], style: 'full' },
        ],
      },
    });
    const masker = engine.masker('api', { subject: 'a', groups: [], issuer: 'i' });
    const m = new JsonMasker(masker);
    const out =
      m.push(
        '{"customer":{"email":"not-an-address","ssn":"123"},"owner":{"email":"x"},' +
          '"note":"card 4111 1111 1111 1111","n":4111111111111111}',
      ) + m.end();
    const parsed = JSON.parse(out);
    expect(parsed.customer).toEqual({ email: '****', ssn: '****' });
    expect(parsed.owner.email).toBe('x');
    expect(parsed.note).not.toContain('4111 1111 1111 1111');
    expect(String(parsed.n)).not.toContain('4111111111111111');
  });
});

describe('JsonMasker shortcuts', () => {
  const engine = compilePolicy({
    connections: [{ name: 'api' }],
    masking: {
      rules: [
        { name: 'contacts', columns: ['customer.email', '*phone*'], style: 'partial' },
        { name: 'ids', columns: ['ssn'], style: 'hash' },
      ],
      hashKey: 'k'.repeat(32),
    },
  });
  const policyMasker = engine.masker('api', { subject: 'a', groups: [], issuer: 'i' });
  /** The same masker without the facts it offers: every value through maskValue and maskText. */
  const plain: Masker = {
    maskValue: (c, t) => policyMasker.maskValue(c, t),
    maskText: (t) => policyMasker.maskText(t),
  };
  const run = (masker: Masker, pieces: readonly string[]) => {
    const m = new JsonMasker(masker);
    return pieces.map((p) => m.push(p)).join('') + m.end();
  };

  it('gives what maskValue and maskText on every value give, for any document and chunking (property)', () => {
    const leaf = fc.oneof(
      fc.constantFrom(
        'jane.doe@example.com',
        'a@b.io',
        '4111 1111 1111 1111',
        '+44 20 7946 0958',
        '123-45-6789',
        'AKIAIOSFODNN7EXAMPLE',
        'GB82WEST12345698765432',
        'plain',
        'é✓ jo\u0068n@example.com',
        '',
      ),
      fc.string(),
      fc.integer(),
      fc.constantFrom(4111111111111111, 1.5e3, true, null),
    );
    const key = fc.constantFrom('email', 'phone', 'ssn', 'customer', 'note', 'a@b.io', 'x', 'homePhone');
    const doc = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, leaf, tie('object'), tie('array')),
      object: fc.dictionary(key, tie('node'), { maxKeys: 4 }),
      array: fc.array(tie('node'), { maxLength: 3 }),
    })).object;
    fc.assert(
      fc.property(doc, fc.array(fc.nat(), { maxLength: 5 }), fc.boolean(), (value, cuts, pretty) => {
        const text = JSON.stringify(value, null, pretty ? 2 : undefined);
        const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
        const pieces = points.map((p, i) => text.slice(points[i - 1] ?? 0, p));
        pieces.push(text.slice(points.at(-1) ?? 0));
        expect(run(policyMasker, pieces)).toBe(run(plain, [text]));
      }),
      { numRuns: 300 },
    );
  });

  it('remembers fields across responses without mixing up maskers', () => {
    const exempt = compilePolicy({
      connections: [{ name: 'api' }],
      masking: { rules: [{ name: 'c', columns: ['email'], exemptGroups: ['support'] }] },
    });
    const agent = exempt.masker('api', { subject: 'a', groups: [], issuer: 'i' });
    const support = exempt.masker('api', { subject: 's', groups: ['support'], issuer: 'i' });
    const doc = '{"email":"not-an-address"}';
    expect(run(agent, [doc])).toBe('{"email":"****"}');
    expect(run(support, [doc])).toBe(doc);
    expect(run(agent, [doc])).toBe('{"email":"****"}');
  });
});
