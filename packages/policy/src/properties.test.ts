import type { Command, Identity, ProtocolName } from '@gatehouse/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { luhnValid } from './masking/checksums.js';
import { compilePolicy } from './policy-engine.js';

const identity: Identity = { subject: 'agent-1', groups: ['agents'], issuer: 'test' };

const engine = compilePolicy({
  policies: {
    guard: {
      rules: [
        { action: 'deny', sql: { kinds: ['ddl', 'admin'], tables: ['secrets'], where: 'absent' } },
        { action: 'review', sql: { functions: ['pg_*'], pattern: 'x' } },
        { action: 'deny', shell: { programs: ['rm'], args: ['-r'], channels: ['exec'], paths: ['/etc/**'] } },
        { action: 'allow', shell: { channels: ['port-forward'], destinations: ['*:5432'] } },
        {
          action: 'deny',
          kubernetes: {
            verbs: ['delete'],
            resources: ['pods/exec', 'secrets'],
            namespaces: ['kube-*'],
            names: ['x'],
          },
        },
        { action: 'allow', kubernetes: { nonResourcePaths: ['/api/**'] } },
        { action: 'review', http: { methods: ['POST'], paths: ['/admin/**'], headers: ['x-a'] } },
        { action: 'allow', groups: ['agents'], notSubjects: ['nobody'] },
      ],
    },
  },
  connections: [{ name: 'c', policy: { use: ['guard'], defaultAction: 'deny' } }],
});

const masker = engine.masker('c', identity);

/** Emails in the shapes the detector promises to find, in any letter case. */
const email = fc
  .tuple(
    fc.stringMatching(/^[a-z0-9][a-z0-9._%+-]{0,15}$/),
    fc.array(fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/), { minLength: 1, maxLength: 3 }),
    fc.stringMatching(/^[a-z]{2,6}$/),
  )
  .chain(([local, labels, tld]) => fc.mixedCase(fc.constant(`${local}@${[...labels, tld].join('.')}`)));

/** Luhn-valid card numbers of the common networks, printed plain or grouped by 4. */
const card = fc
  .tuple(
    fc.constantFrom('4', '51', '55', '37', '6011', '2221'),
    fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 14, maxLength: 14 }),
    fc.constantFrom('', ' ', '-'),
  )
  .map(([prefix, rest, sep]) => {
    const body = (prefix + rest.join('')).slice(0, 15);
    const check = [...'0123456789'].find((d) => luhnValid(body + d)) as string;
    const digits = body + check;
    return sep === '' ? digits : (digits.match(/.{1,4}/g) as string[]).join(sep);
  });

const text = fc.string({ unit: 'binary', maxLength: 60 });

describe('properties', () => {
  it('maskText never throws and never leaves a generated email or card in clear', () => {
    fc.assert(
      fc.property(text, fc.oneof(email, card), text, (before, value, after) => {
        const out = masker.maskText(`${before} ${value} ${after}`);
        expect(out).not.toContain(value);
      }),
      { numRuns: 3000 },
    );
  });

  it('maskText and maskValue never throw on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), fc.option(fc.string()), (t, column) => {
        expect(typeof masker.maskText(t)).toBe('string');
        expect(typeof masker.maskValue(column ?? undefined, t)).toBe('string');
      }),
      { numRuns: 2000 },
    );
  });

  const protocols: ProtocolName[] = ['postgres', 'ssh', 'kubernetes', 'http', 'test'];
  const statements = fc.array(
    fc.oneof(
      fc.anything(),
      fc.record(
        {
          kind: fc.oneof(fc.constantFrom('select', 'drop', 'DropStmt', ''), fc.anything()),
          tables: fc.oneof(fc.array(fc.string()), fc.anything()),
          functions: fc.oneof(fc.array(fc.string()), fc.anything()),
          hasWhere: fc.anything(),
          modifiesData: fc.anything(),
          nested: fc.anything(),
        },
        { requiredKeys: [] },
      ),
    ),
  );
  const attributes = fc.oneof(
    fc.anything(),
    fc.dictionary(fc.string(), fc.anything()),
    fc.record({ statements }, { requiredKeys: [] }),
    fc.record(
      {
        channel: fc.oneof(fc.constantFrom('exec', 'port-forward', 'sftp'), fc.anything()),
        commands: fc.oneof(fc.array(fc.array(fc.string())), fc.anything()),
        path: fc.anything(),
        destination: fc.anything(),
        sftpOp: fc.anything(),
      },
      { requiredKeys: [] },
    ),
    fc.record(
      {
        verb: fc.anything(),
        resource: fc.anything(),
        subresource: fc.anything(),
        namespace: fc.anything(),
        name: fc.anything(),
        nonResourcePath: fc.anything(),
        method: fc.anything(),
        path: fc.anything(),
        headers: fc.anything(),
      },
      { requiredKeys: [] },
    ),
  );

  it('decide never throws and always judges arbitrary attribute objects', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...protocols),
        fc.string(),
        fc.anything(),
        attributes,
        (protocol, kind, txt, attrs) => {
          const command = { protocol, kind, text: txt, attributes: attrs } as unknown as Command;
          const d = engine.decide({ connection: 'c', identity, command });
          expect(['allow', 'deny', 'review']).toContain(d.action);
          // The readers cope with any shape by themselves; the catch-all is for hostile getters.
          expect(d.ruleId).not.toBe('builtin:evaluation-failed');
        },
      ),
      { numRuns: 3000 },
    );
  });
});
