import { EventType } from '@gatehouse/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJsonOfSorted, toJsonObject } from './canonical-json.js';
import { prepareEvent } from './chain.js';
import { REDACTED, secretRedactor } from './redact.js';

describe('secretRedactor', () => {
  it('replaces every occurrence of every secret', () => {
    const redact = secretRedactor(['s3cret', 'tok']);
    expect(redact('a s3cret and s3cret, tok!')).toBe(`a ${REDACTED} and ${REDACTED}, ${REDACTED}!`);
  });

  it('removes a secret that contains another secret whole', () => {
    expect(secretRedactor(['abc', 'abcdef'])('xabcdefx')).toBe(`x${REDACTED}x`);
  });

  it('never rewrites the marker, even when a secret occurs in it', () => {
    expect(secretRedactor(['hunter2', 'RED'])('hunter2 RED')).toBe(`${REDACTED} ${REDACTED}`);
  });

  it('treats secrets as text, not patterns, and ignores empty ones', () => {
    const redact = secretRedactor(['', 'a.b*(c)[d]$', '']);
    expect(redact('x a.b*(c)[d]$ y aXb')).toBe(`x ${REDACTED} y aXb`);
    expect(secretRedactor([''])('anything')).toBe('anything');
    expect(secretRedactor(undefined)('anything')).toBe('anything');
  });

  it('reaches nested values, array items and keys', () => {
    const token = 'eyJhbGciOiJSUzI1NiJ9.payload.sig';
    const tree = toJsonObject(
      { text: `password '${token}'`, nested: { list: [token, { [token]: 1 }] }, n: 5 },
      secretRedactor([token]),
    );
    const text = canonicalJsonOfSorted(tree);
    expect(text).not.toContain(token);
    expect(tree).toEqual({
      n: 5,
      nested: { list: [REDACTED, { [REDACTED]: 1 }] },
      text: `password '${REDACTED}'`,
    });
  });
});

describe('prepareEvent with secrets', () => {
  /** What the event's data must be: every string passed through the redactor. */
  function slow(data: Record<string, unknown>, secrets: string[]) {
    const tree = toJsonObject(data, secretRedactor(secrets));
    return { data: tree, dataJson: canonicalJsonOfSorted(tree) };
  }

  it('skips rebuilding only when no string holds a secret, whatever JSON escapes', () => {
    const cases: [Record<string, unknown>, string[]][] = [
      [{ text: 'nothing here' }, ['s3cret']],
      [{ text: 'say "hi"' }, ['"hi"']],
      [{ text: 'a\\b' }, ['a\\b']],
      [{ text: 'line\nbreak' }, ['\n']],
      [{ 'k"ey': 1 }, ['k"e']],
      [{ text: 'x\u2028y' }, ['\u2028']],
      [{ n: 12345 }, ['234']],
      [{ list: ['tok', { tok: 'tok' }] }, ['tok']],
    ];
    for (const [data, secrets] of cases) {
      const e = prepareEvent({ sessionId: 's', type: EventType.Note, data, secrets }, 1, undefined);
      expect({ data: e.data, dataJson: e.dataJson }).toEqual(slow(data, secrets));
    }
  });

  it('agrees with redacting every string, for any data and secrets taken from it', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.jsonValue()),
        fc.array(fc.string({ minLength: 1, maxLength: 4 }), { maxLength: 3 }),
        fc.nat(),
        (data, extra, pick) => {
          // Secrets that do occur: pieces of the data's own text.
          const text = JSON.stringify(data);
          const start = pick % Math.max(1, text.length);
          const secrets = [...extra, text.slice(start, start + 1 + (pick % 5))].filter((s) => s !== '');
          const e = prepareEvent({ sessionId: 's', type: EventType.Note, data, secrets }, 1, undefined);
          expect({ data: e.data, dataJson: e.dataJson }).toEqual(slow(data, secrets));
        },
      ),
      { numRuns: 500 },
    );
  });
});
