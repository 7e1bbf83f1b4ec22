import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fakeMasker } from './test-support/fake-masker.js';
import { TextMasker } from './text-masker.js';

function maskPieces(pieces: readonly string[], tail = 64): string {
  const m = new TextMasker(fakeMasker, { tail });
  return pieces.map((p) => m.push(p)).join('') + m.end();
}

describe('TextMasker', () => {
  it('catches a value cut in two at any point', () => {
    const text = `${'lorem ipsum '.repeat(20)}mail john.doe@example.com or pay 4111 1111 1111 1111 ${'dolor '.repeat(20)}`;
    const whole = fakeMasker.maskText(text);
    for (let cut = 0; cut <= text.length; cut++) {
      expect(maskPieces([text.slice(0, cut), text.slice(cut)]), `cut at ${cut}`).toBe(whole);
    }
  });

  it('catches values across many small pieces (property)', () => {
    const word = fc.constantFrom('a@b.io', 'john.doe@example.com', '4111-1111-1111-1111', 'plain', 'x', '\n');
    fc.assert(
      fc.property(fc.array(word, { maxLength: 40 }), fc.array(fc.nat(), { maxLength: 10 }), (words, cuts) => {
        const text = words.join(' ');
        const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
        const pieces: string[] = [];
        let last = 0;
        for (const p of points) {
          pieces.push(text.slice(last, p));
          last = p;
        }
        pieces.push(text.slice(last));
        expect(maskPieces(pieces)).toBe(fakeMasker.maskText(text));
      }),
    );
  });

  it('holds back only the tail of a long piece', () => {
    const m = new TextMasker(fakeMasker, { tail: 10 });
    const out = m.push('a'.repeat(100));
    expect(out).toBe('a'.repeat(90));
    expect(m.end()).toBe('a'.repeat(10));
  });

  it('holds more while a value straddles the cut', () => {
    const m = new TextMasker(fakeMasker, { tail: 10 });
    // The natural cut (10 before the end) falls inside the email: it must not be sent half-masked.
    const first = m.push(`${'a '.repeat(40)}x john.doe@example.com yz`);
    expect(first).not.toMatch(/j|@/);
    expect(first + m.push(' and more text after it') + m.end()).toBe(
      `${'a '.repeat(40)}x [email] yz and more text after it`,
    );
  });

  it('is exact for values shorter than the tail, not for longer ones', () => {
    // Documented limit: a value longer than the tail that also runs past the end of the piece can
    // be cut where neither side looks sensitive.
    const pieces = [`${'a '.repeat(40)}x john.doe@example`, '.com'];
    expect(maskPieces(pieces, 30)).toBe(`${'a '.repeat(40)}x [email]`);
    expect(maskPieces(pieces, 10)).not.toBe(`${'a '.repeat(40)}x [email]`);
  });

  it('sends a piece that ends a line at once (SSE, logs)', () => {
    const m = new TextMasker(fakeMasker);
    expect(m.push('data: a@b.io\n\n')).toBe('data: [email]\n\n');
    expect(m.push('data: par')).toBe('');
    expect(m.push('tial\n\n')).toBe('data: partial\n\n');
  });

  it('never splits a surrogate pair', () => {
    const m = new TextMasker(fakeMasker, { tail: 3 });
    const text = `${'😀'.repeat(10)}`;
    let out = '';
    for (let i = 0; i < 5; i++) out += m.push(text);
    out += m.end();
    expect(out).toBe(text.repeat(5));
    expect(out).not.toContain('\ufffd');
    expect(/[\ud800-\udbff](?![\udc00-\udfff])/.test(out)).toBe(false);
  });

  it('gives up holding past the limit and sends the window masked', () => {
    const masker = {
      maskValue: (_f: string | undefined, t: string) => t,
      maskText: (t: string) => t.replace(/ab/g, 'AB'),
    };
    // Every cut between "a" and "b" is unsafe, so nothing could be sent without a limit.
    const m = new TextMasker(masker, { tail: 1, maxHold: 50 });
    let out = '';
    for (let i = 0; i < 40; i++) out += m.push('ab');
    out += m.end();
    expect(out).toBe('AB'.repeat(40));
  });
});
