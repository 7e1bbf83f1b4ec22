import type { Identity } from '@gatehouse/core';
import { ConfigError } from '@gatehouse/core';
import { describe, expect, it } from 'vitest';
import type { MaskingConfig } from '../config-schema.js';
import { compileMasking } from './compile-masking.js';

const agent: Identity = { subject: 'agent-1', groups: ['agents'], issuer: 'test' };
const auditor: Identity = { subject: 'carol', groups: ['auditors'], issuer: 'test' };

function masker(config: MaskingConfig | undefined, identity = agent, connection = 'pg', key?: string) {
  return compileMasking(config, key).masker(connection, identity);
}

describe('masker', () => {
  it('runs every built-in detector in full style when nothing is configured', () => {
    const m = masker(undefined);
    expect(m.maskText('mail bob@example.com, card 4111 1111 1111 1111, key AKIAIOSFODNN7EXAMPLE')).toBe(
      'mail ****, card ****, key ****',
    );
  });

  it('returns the same string when nothing is found', () => {
    const m = masker(undefined);
    const text = 'order 42 shipped on 2024-03-01, version 10.2.3.4567';
    expect(m.maskText(text)).toBe(text);
  });

  it('uses the style of the rule that names a detector', () => {
    const m = masker({ rules: [{ name: 'cards', detectors: ['card'], style: 'partial' }] });
    expect(m.maskText('card 4111 1111 1111 1111 and bob@example.com')).toBe(
      'card **** **** **** 1111 and ****',
    );
  });

  it('keeps equal values equal under hash, however they are printed', () => {
    const m = masker({ hashKey: 'k', rules: [{ name: 'h', detectors: ['email', 'card'], style: 'hash' }] });
    const a = m.maskText('Bob@Example.com');
    expect(a).toMatch(/^h:[0-9a-f]{16}$/);
    expect(m.maskText('bob@example.com')).toBe(a);
    expect(m.maskText('4111 1111 1111 1111')).toBe(m.maskText('4111-1111-1111-1111'));
    const other = masker({ hashKey: 'other', rules: [{ name: 'h', detectors: ['email'], style: 'hash' }] });
    expect(other.maskText('bob@example.com')).not.toBe(a);
  });

  it('lets the compile option override masking.hashKey', () => {
    const config: MaskingConfig = {
      hashKey: 'a',
      rules: [{ name: 'h', detectors: ['email'], style: 'hash' }],
    };
    expect(masker(config, agent, 'pg', 'b').maskText('x@example.com')).not.toBe(
      masker(config).maskText('x@example.com'),
    );
  });

  it('masks a whole value by column glob, case-insensitively, before any detector', () => {
    const m = masker({
      rules: [{ name: 'pii', columns: ['*ssn*', 'Email', 'card_number'], style: 'partial' }],
    });
    expect(m.maskValue('customer_SSN', '123-45-6789')).toBe('***-**-6789');
    expect(m.maskValue('EMAIL', 'not an address at all')).toBe('*** ** ******* *t all');
    expect(m.maskValue('customer.email', 'bob@example.com')).toBe('***@******e.com');
    expect(m.maskValue('notes', 'write to bob@example.com')).toBe('write to ****');
    expect(m.maskValue(undefined, 'bob@example.com')).toBe('****');
    expect(m.maskValue('email', '')).toBe('');
  });

  it('applies the first rule whose columns match', () => {
    const m = masker({
      hashKey: 'k',
      rules: [
        { name: 'a', columns: ['email'], style: 'hash' },
        { name: 'b', columns: ['e*'], style: 'full' },
      ],
    });
    expect(m.maskValue('email', 'x')).toMatch(/^h:/);
    expect(m.maskValue('etc', 'x')).toBe('****');
  });

  it('honours exemptions and connection scopes', () => {
    const config: MaskingConfig = {
      rules: [
        { name: 'pii', columns: ['email'], detectors: ['email'], exemptGroups: ['auditors'] },
        { name: 'only-crm', columns: ['phone'], connections: ['crm-*'] },
      ],
    };
    expect(masker(config, agent).maskValue('email', 'bob@example.com')).toBe('****');
    // The auditor sees emails: the only rule naming the email detector exempts them.
    expect(masker(config, auditor).maskValue('email', 'bob@example.com')).toBe('bob@example.com');
    expect(masker(config, auditor).maskText('bob@example.com 4111111111111111')).toBe('bob@example.com ****');
    expect(masker(config, agent, 'crm-eu').maskValue('phone', 'x')).toBe('****');
    expect(masker(config, agent, 'pg').maskValue('phone', 'x')).toBe('x');
  });

  it('exempts subjects by glob', () => {
    const config: MaskingConfig = { rules: [{ name: 'r', detectors: ['email'], exemptSubjects: ['svc-*'] }] };
    const svc: Identity = { subject: 'svc-report', groups: [], issuer: 't' };
    expect(masker(config, svc).maskText('bob@example.com')).toBe('bob@example.com');
    expect(masker(config, agent).maskText('bob@example.com')).toBe('****');
  });

  it('runs only named detectors with builtinDetectors: named', () => {
    const m = masker({ builtinDetectors: 'named', rules: [{ name: 'r', detectors: ['email'] }] });
    expect(m.maskText('bob@example.com 4111111111111111')).toBe('**** 4111111111111111');
  });

  it('runs custom detectors, in full style unless a rule names them', () => {
    const config: MaskingConfig = {
      detectors: [
        { name: 'employee-id', pattern: 'EMP-\\d{6}' },
        { name: 'ticket', pattern: 'tick-[a-z]{8}', ignoreCase: true },
      ],
      rules: [{ name: 'tickets', detectors: ['ticket'], style: 'partial' }],
    };
    const m = masker(config);
    expect(m.maskText('by EMP-123456 in TICK-abcdEFGH')).toBe('by **** in ****-****EFGH');
  });

  it('does not loop on a custom pattern that can match empty strings', () => {
    const m = masker({ detectors: [{ name: 'word-start', pattern: '\\b(?=x)x?' }] });
    expect(m.maskText('ax xb x')).toBe('ax ****b ****');
  });

  it('masks overlapping findings once, as a whole', () => {
    const m = masker({ detectors: [{ name: 'acct', pattern: 'acct:[0-9 ]{4}' }] });
    expect(m.maskText('acct:4111 1111 1111 1111 end')).toBe('**** end');
  });

  it('caches maskers per identity and connection', () => {
    const engine = compileMasking({ rules: [{ name: 'r', columns: ['x'] }] }, undefined);
    expect(engine.masker('pg', agent)).toBe(engine.masker('pg', { ...agent }));
    expect(engine.masker('pg', agent)).toBe(engine.masker('pg', auditor));
  });
});

describe('masking config errors', () => {
  it.each([
    [{ rules: [{ name: 'r', detectors: ['emial'] }] }, 'masking.rules[0].detectors[0]', /did you mean email/],
    [{ rules: [{ name: 'r', detectors: ['email'], style: 'hash' }] }, 'masking.rules[0].style', /hashKey/],
    [{ rules: [{ name: 'r', style: 'full' }] }, 'masking.rules[0]', /columns, detectors/],
    [{ rules: [{ name: 'r', columns: [] }] }, 'masking.rules[0].columns', /must not be empty/],
    [
      { detectors: [{ name: 'x', pattern: '([a-z]+)+$' }] },
      'masking.detectors[0].pattern',
      /nested quantifier/,
    ],
    [
      { detectors: [{ name: 'x', pattern: '(' }] },
      'masking.detectors[0].pattern',
      /invalid regular expression/,
    ],
    [{ detectors: [{ name: 'x', pattern: 'a*' }] }, 'masking.detectors[0].pattern', /empty string/],
    [{ detectors: [{ name: 'email', pattern: 'x' }] }, 'masking.detectors[0].name', /already taken/],
    [{ rules: [{ name: 'r', columns: ['a'], colums: ['b'] }] }, 'masking.rules[0].colums', /unknown key/],
    [{ builtinDetectors: 'some' }, 'masking.builtinDetectors', /all, named/],
  ])('%j fails at %s', (config, path, message) => {
    let error: unknown;
    try {
      compileMasking(config, undefined);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).path).toBe(path);
    expect((error as ConfigError).message).toMatch(message);
  });
});
