import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkRequestTarget } from './request-target.js';

/**
 * An independent RFC 3986 normaliser (§6.2.2.1 case, §6.2.2.2 unreserved decoding, §5.2.4 dot
 * segment removal) for the path part. A target the gateway accepts must be a fixed point of it, so
 * an upstream that normalises sees exactly the path that policy judged.
 */
function rfc3986NormalisePath(path: string): string {
  const decoded = path.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => {
    const c = String.fromCharCode(Number.parseInt(hex, 16));
    return /[A-Za-z0-9\-._~]/.test(c) ? c : `%${hex.toUpperCase()}`;
  });
  let input = decoded;
  let output = '';
  while (input.length > 0) {
    if (input.startsWith('../')) input = input.slice(3);
    else if (input.startsWith('./')) input = input.slice(2);
    else if (input.startsWith('/./')) input = input.slice(2);
    else if (input === '/.') input = '/';
    else if (input.startsWith('/../')) {
      input = input.slice(3);
      output = output.slice(0, Math.max(0, output.lastIndexOf('/')));
    } else if (input === '/..') {
      input = '/';
      output = output.slice(0, Math.max(0, output.lastIndexOf('/')));
    } else if (input === '.' || input === '..') input = '';
    else {
      const next = input.indexOf('/', input.startsWith('/') ? 1 : 0);
      const seg = next === -1 ? input : input.slice(0, next);
      output += seg;
      input = input.slice(seg.length);
    }
  }
  return output;
}

/** Pieces that hit every rule, so random targets are interesting instead of mostly refused early. */
const piece = fc.constantFrom(
  '/',
  '/',
  '/',
  '.',
  '..',
  '%',
  '%2E',
  '%2e',
  '%2F',
  '%2f',
  '%5C',
  '%25',
  '%41',
  '%C0%AE',
  '%C3%A9',
  '%EF%BC%8F',
  '%EF%BC%8E',
  '%00',
  '%20',
  '%40',
  '\\',
  ';',
  '?',
  '#',
  '&',
  '=',
  ':',
  '@',
  '~',
  '+',
  ' ',
  '\t',
  '\u0000',
  'é',
  '\uff0e',
  'a',
  'b',
  'x',
  '2',
  'E',
  'F',
  'api',
  'v1',
);
const crafted = fc.array(piece, { maxLength: 24 }).map((ps) => `/${ps.join('')}`);
const anything = fc.oneof(
  crafted,
  crafted,
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.webPath(),
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
);

describe('checkRequestTarget properties', () => {
  it('never throws, and whatever it accepts re-serialises to itself', () => {
    fc.assert(
      fc.property(anything, (target) => {
        const r = checkRequestTarget(target);
        if (!r.ok) {
          expect(typeof r.reason).toBe('string');
          return;
        }
        const rebuilt = r.query === undefined ? r.path : `${r.path}?${r.query}`;
        expect(rebuilt).toBe(target);
        // Checking the accepted form again gives the same verdict (idempotent).
        expect(checkRequestTarget(rebuilt)).toEqual(r);
        // An RFC 3986 normaliser leaves it alone…
        expect(rfc3986NormalisePath(r.path)).toBe(r.path);
        // …and so does the WHATWG URL parser (Node, undici, browsers), which also folds `\`,
        // `%2e` and friends.
        expect(new URL(r.path, 'http://gateway.invalid').pathname).toBe(r.path);
        // Decoded segments never hide path syntax.
        r.segments.forEach((seg, i) => {
          expect(seg).not.toMatch(/[/\\\u0000]/);
          expect(['.', '..']).not.toContain(seg);
          if (seg === '') expect(i).toBe(r.segments.length - 1);
        });
      }),
      { numRuns: 5_000 },
    );
  });

  it('accepts every canonical path built from safe segments', () => {
    const segment = fc
      .string({ unit: fc.constantFrom(..."abcXYZ019-_~!$&'()*+,;=:@".split('')), minLength: 1, maxLength: 8 })
      .filter((s) => s.split(';')[0] !== '.' && s.split(';')[0] !== '..');
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 6 }), fc.boolean(), (segs, trailing) => {
        const path = `/${segs.join('/')}${trailing && segs.length > 0 ? '/' : ''}`;
        expect(checkRequestTarget(path)).toMatchObject({ ok: true, path });
      }),
    );
  });
});
