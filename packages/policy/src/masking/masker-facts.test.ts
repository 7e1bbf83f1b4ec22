import type { Identity, Masker } from '@gatehouse/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { luhnValid } from './checksums.js';
import { compileMasking } from './compile-masking.js';
import { requiredLiteral } from './prefilter.js';

const agent: Identity = { subject: 'agent-1', groups: ['agents'], issuer: 'test' };
const auditor: Identity = { subject: 'alice', groups: ['auditors'], issuer: 'test' };
const service: Identity = { subject: 'svc-reports', groups: [], issuer: 'test' };

const utf8 = (t: string): Buffer => Buffer.from(t, 'utf8');
const mayDetect = (m: Masker, t: string): boolean => {
  const b = utf8(t);
  return m.mayDetect?.(b, 0, b.length) ?? true;
};

const CUSTOM = [
  { name: 'employee-id', pattern: 'EMP-\\d{6}' },
  { name: 'ticket', pattern: 'tk_[a-z]{3,}', ignoreCase: true },
  { name: 'order-ref', pattern: '\\bORD[0-9]+/x' },
];

/** Configs whose maskers the properties run over: every built-in, some, none, custom ones. */
const CONFIGS: Record<string, unknown> = {
  'every built-in': undefined,
  'built-ins and custom detectors': { detectors: CUSTOM },
  'named built-ins only': {
    builtinDetectors: 'named',
    rules: [{ name: 'r', detectors: ['email', 'phone'], style: 'partial' }],
  },
  'custom only': {
    builtinDetectors: 'named',
    detectors: CUSTOM,
  },
  'custom without a literal': {
    builtinDetectors: 'named',
    detectors: [{ name: 'caps', pattern: '[A-Z]{5}' }],
  },
};

function maskerOf(config: unknown, identity = agent, connection = 'pg'): Masker {
  return compileMasking(config, 'k').masker(connection, identity);
}

describe('Masker.hasDetectors', () => {
  it.each([
    ['defaults', undefined, true],
    ['named, none named', { builtinDetectors: 'named' }, false],
    ['named, columns only', { builtinDetectors: 'named', rules: [{ name: 'c', columns: ['email'] }] }, false],
    ['named, one named', { builtinDetectors: 'named', rules: [{ name: 'd', detectors: ['jwt'] }] }, true],
    ['named, a custom one', { builtinDetectors: 'named', detectors: [{ name: 'x', pattern: 'x+' }] }, true],
  ])('%s', (_name, config, expected) => {
    expect(maskerOf(config).hasDetectors).toBe(expected);
  });

  it('follows exemptions: a detector named only by an exempting rule is off for that identity', () => {
    const config = {
      builtinDetectors: 'named',
      rules: [{ name: 'd', detectors: ['email'], exemptGroups: ['auditors'] }],
    };
    expect(maskerOf(config, agent).hasDetectors).toBe(true);
    const exempt = maskerOf(config, auditor);
    expect(exempt.hasDetectors).toBe(false);
    expect(mayDetect(exempt, 'bob@example.com')).toBe(false);
  });
});

describe('Masker.coversColumn and hasColumnRules', () => {
  const config = {
    builtinDetectors: 'named',
    rules: [
      { name: 'pii', columns: ['email', 'Customer_*'], exemptGroups: ['auditors'] },
      { name: 'crm', columns: ['phone'], connections: ['crm-*'] },
      { name: 'svc', columns: ['salary'], exemptSubjects: ['svc-*'] },
      { name: 'detect', detectors: ['email'] },
    ],
  };

  it.each([
    // identity, connection, column, covered
    [agent, 'pg', 'email', true],
    [agent, 'pg', 'EMAIL', true],
    [agent, 'pg', 'users.email', true],
    [agent, 'pg', 'customer.email', true],
    [agent, 'pg', 'email.domain', false],
    [agent, 'pg', 'customer_name', true],
    [agent, 'pg', 'orders.CUSTOMER_ID', true],
    [agent, 'pg', 'customer', false],
    [agent, 'pg', 'emails', false],
    [agent, 'pg', 'phone', false],
    [agent, 'crm-eu', 'phone', true],
    [agent, 'crm-eu', 'contacts.phone', true],
    [agent, 'pg', 'salary', true],
    [service, 'pg', 'salary', false],
    [service, 'pg', 'email', true],
    [auditor, 'pg', 'email', false],
    [auditor, 'pg', 'customer_name', false],
    [auditor, 'pg', 'salary', true],
    [auditor, 'crm-x', 'phone', true],
    [agent, 'pg', 'id', false],
  ] as const)('%o on %s: %s → %s', (identity, connection, column, covered) => {
    const m = maskerOf(config, identity, connection);
    expect(m.coversColumn?.(column)).toBe(covered);
    // The same decision as maskValue: a covered column is masked as a whole.
    const value = 'plain value 42';
    expect(m.maskValue(column, value) !== value).toBe(covered);
  });

  it.each([
    [agent, 'pg', true],
    [service, 'pg', true],
    [auditor, 'pg', true],
    [auditor, 'crm-1', true],
  ] as const)('hasColumnRules for %o on %s', (identity, connection, expected) => {
    expect(maskerOf(config, identity, connection).hasColumnRules).toBe(expected);
  });

  it('has no column rules when every column rule is exempted or scoped away', () => {
    const scoped = {
      rules: [
        { name: 'a', columns: ['email'], exemptGroups: ['auditors'] },
        { name: 'b', columns: ['phone'], connections: ['crm-*'] },
        { name: 'c', detectors: ['email'] },
      ],
    };
    const m = maskerOf(scoped, auditor, 'pg');
    expect(m.hasColumnRules).toBe(false);
    expect(m.coversColumn?.('email')).toBe(false);
    expect(m.coversColumn?.('phone')).toBe(false);
    expect(maskerOf(scoped, auditor, 'crm-1').hasColumnRules).toBe(true);
    expect(maskerOf(scoped, agent, 'pg').hasColumnRules).toBe(true);
    expect(maskerOf(undefined).hasColumnRules).toBe(false);
    expect(maskerOf(undefined).coversColumn?.('email')).toBe(false);
  });
});

describe('Masker.mayDetect', () => {
  const all = maskerOf({ detectors: CUSTOM });

  it.each([
    ['bob@example.com', true],
    ['card 4111 1111 1111 1111', true],
    ['+49 30 1234 5678', true],
    ['DE89 3704 0044 0532 0130 00', true],
    ['AKIAIOSFODNN7EXAMPLE', true],
    ['EMP-123456', true],
    ['TK_abcd', true],
    ['x ORD12/x', true],
    ['shipped', false],
    ['Customer number 12345', false],
    ['2024-03-01 12:30:45+00', true], // a + and 8 digits: maybe a phone
    ['shipped 2024-03-01', false],
    ['tk-abc and emp 123456', false],
    ['', false],
  ])('%j → %s', (text, expected) => {
    expect(mayDetect(all, text)).toBe(expected);
    if (!expected) expect(all.maskText(text)).toBe(text);
  });

  it('reads a range of a larger buffer', () => {
    const b = utf8('xx bob@example.com yy');
    expect(all.mayDetect?.(b, 0, 3)).toBe(false);
    expect(all.mayDetect?.(b, 3, 18)).toBe(true);
    expect(all.mayDetect?.(b, 18, b.length)).toBe(false);
  });

  it('is true for any non-empty text when a custom pattern has no required literal', () => {
    const m = maskerOf(CONFIGS['custom without a literal']);
    expect(mayDetect(m, 'a')).toBe(true);
    expect(mayDetect(m, '')).toBe(false);
  });

  it('gates only what is enabled', () => {
    const emailOnly = maskerOf({ builtinDetectors: 'named', rules: [{ name: 'e', detectors: ['email'] }] });
    expect(mayDetect(emailOnly, 'bob@example.com')).toBe(true);
    expect(mayDetect(emailOnly, '4111 1111 1111 1111 AKIAIOSFODNN7EXAMPLE')).toBe(false);
    const none = maskerOf({ builtinDetectors: 'named' });
    expect(mayDetect(none, 'bob@example.com')).toBe(false);
  });
});

describe('requiredLiteral', () => {
  const lit = (source: string, flags = 'g'): string | undefined => {
    const g = requiredLiteral(new RegExp(source, flags));
    return g === undefined ? undefined : Buffer.from(g.literal).toString('latin1');
  };
  it.each([
    ['EMP-\\d{6}', 'EMP-'],
    ['\\bORD[0-9]+/x', 'ORD'],
    ['ab+c', 'ab'],
    ['abc?d', 'ab'],
    ['x{2}yz', 'yz'],
    ['x{2}y', 'x'],
    ['(?:foo)?barbaz', 'barbaz'],
    ['a\\.b\\-c', 'a.b-c'],
    ['a{,2}', 'a{,2}'],
    ['\\x41BC', 'BC'],
    ['\\u0041BC', 'BC'],
    ['[]abc', 'abc'],
    ['[^]abc', 'abc'],
    ['[a-z]+secret', 'secret'],
    ['(?<=key=)[A-Za-z]+', undefined],
    ['foo|bar', undefined],
    ['[A-Z]{5}', undefined],
    ['\\d+', undefined],
    ['café', 'caf'],
  ])('%j → %j', (source, expected) => {
    expect(lit(source)).toBe(expected);
  });

  it('lower-cases under ignoreCase and drops k and s under ignoreCase with unicode', () => {
    expect(lit('Tk_Live', 'gi')).toBe('tk_live');
    expect(lit('Tk_Live', 'giu')).toBe('_live');
  });
});

// ---- the property: mayDetect false ⇒ maskText changes nothing ----

const filler = fc.oneof(
  fc.string({ maxLength: 24 }),
  fc.stringMatching(/^[a-z ]{0,20}$/),
  fc.stringMatching(/^[0-9 +\-.()/]{0,16}$/),
  fc.constantFrom(' ', ', ', ': ', '(', '"', '«', '→', 'é', '\u00a0', '\n', 'SSN: ', 'x', '1'),
);

const digits = (n: number) => fc.stringMatching(new RegExp(`^[0-9]{${n}}$`));

const card = fc.tuple(fc.constantFrom('4', '51', '6011', '37'), digits(12)).map(([p, rest]) => {
  const body = (p + rest).slice(0, 15);
  for (let d = 0; d < 10; d++) if (luhnValid(body + d)) return body + d;
  return `${body}0`;
});
const spacedCard = card.map((c) => c.replace(/(\d{4})(?=\d)/g, '$1 '));

const email = fc
  .tuple(
    fc.stringMatching(/^[a-z0-9._%+-]{1,12}$/),
    fc.stringMatching(/^[a-z0-9-]{1,10}$/),
    fc.constantFrom('com', 'de', 'io', 'co.uk'),
  )
  .map(([l, d, t]) => `${l}@${d}.${t}`);

const ssn = fc
  .tuple(digits(3), digits(2), digits(4), fc.constantFrom('-', ' '))
  .map(([a, g, s, sep]) => `${a}${sep}${g}${sep}${s}`);
const phone = fc.oneof(
  fc.tuple(fc.constantFrom('+1', '+44', '+49'), digits(9)).map(([c, n]) => `${c} ${n}`),
  fc.tuple(digits(3), digits(3), digits(4)).map(([a, b, c]) => `(${a}) ${b}-${c}`),
);
const iban = fc.constantFrom(
  'DE89 3704 0044 0532 0130 00',
  'GB82WEST12345698765432',
  'FR1420041010050500013M02606',
);
const token = fc.oneof(
  fc.stringMatching(/^[A-Z0-9]{16}$/).map((s) => `AKIA${s}`),
  fc.stringMatching(/^[A-Za-z0-9]{36}$/).map((s) => `ghp_${s}`),
  fc.stringMatching(/^[A-Za-z0-9]{22}$/).map((s) => `github_pat_${s}`),
  fc.stringMatching(/^[A-Za-z0-9-]{10,20}$/).map((s) => `xoxb-${s}`),
  fc.stringMatching(/^[A-Za-z0-9]{10,20}$/).map((s) => `sk_live_${s}`),
  fc.constant('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig'),
  fc.constant('-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----'),
);
const custom = fc.oneof(
  digits(6).map((d) => `EMP-${d}`),
  fc.tuple(fc.constantFrom('tk_', 'TK_', 'Tk_'), fc.stringMatching(/^[a-zA-Z]{3,8}$/)).map(([p, s]) => p + s),
  digits(4).map((d) => `ORD${d}/x`),
  fc.stringMatching(/^[A-Z]{5,7}$/),
);
const hit = fc.oneof(email, card, spacedCard, ssn, phone, iban, token, custom);

const text = fc
  .array(fc.oneof({ weight: 3, arbitrary: filler }, { weight: 2, arbitrary: hit }), { maxLength: 6 })
  .map((parts) => parts.join(''));

describe('mayDetect is never false when maskText would change something', () => {
  for (const [name, config] of Object.entries(CONFIGS)) {
    const m = maskerOf(config);
    it(name, () => {
      fc.assert(
        fc.property(text, (t) => {
          if (m.maskText(t) !== t) {
            expect(mayDetect(m, t)).toBe(true);
            // The same bytes read as Latin-1 (bytea): the ASCII gates answer alike.
            const latin1 = Buffer.from(t, 'latin1');
            if (m.maskText(latin1.toString('latin1')) !== latin1.toString('latin1'))
              expect(m.mayDetect?.(latin1, 0, latin1.length) ?? true).toBe(true);
          }
        }),
        { numRuns: 2000 },
      );
    });
  }

  it('says false for most plain text (the point of a prefilter)', () => {
    const m = maskerOf({ detectors: CUSTOM });
    const plain = fc.stringMatching(/^[a-z ,.]{0,40}$/);
    fc.assert(fc.property(plain, (t) => !mayDetect(m, t)));
  });
});
