/**
 * A cheap pre-test on a value's bytes: false only when none of the built-in detectors of
 * @gatehouse/policy could find anything in it, so that the common value (a name, an id, a status)
 * costs one pass over its bytes and no string decoding.
 *
 * This knows the detectors' entry conditions (an `@`; 9 digits, or 8 after a `+`; a two-letter
 * word followed by two digits for an IBAN; the literal prefixes of the token shapes; a PEM BEGIN
 * line) and nothing about custom detectors. It belongs next to the detectors, in the policy
 * package, as `Masker.mayDetect`; until the masker offers one, the result masker uses this only
 * when told to (`prefilter: 'builtin'`), because a custom detector can match anything.
 */

export type Prefilter = (bytes: Uint8Array, start: number, end: number) => boolean;

/** Below this many characters no built-in detector matches (`a@b.co`). */
const MIN_LENGTH = 6;

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isLetter = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

export const builtinPrefilter: Prefilter = (b, start, end) => {
  if (end - start < MIN_LENGTH) return false;
  let digits = 0;
  let plus = false;
  let letters = 0;
  let runAtBoundary = false;
  let prevAlnum = false;
  for (let i = start; i < end; i++) {
    const c = b[i] as number;
    if (isDigit(c)) {
      if (++digits >= 9) return true;
      // IBAN: exactly two letters starting a word, then two digits.
      if (letters === 2 && runAtBoundary && i + 1 < end && isDigit(b[i + 1] as number)) return true;
      letters = 0;
      prevAlnum = true;
    } else if (isLetter(c)) {
      if (letters === 0) runAtBoundary = !prevAlnum;
      letters++;
      prevAlnum = true;
      if (tokenAt(b, i, end, c)) return true;
    } else {
      if (c === 64) return true; // @
      if (c === 43) plus = true;
      else if (c === 45 && startsWith(b, i, end, PEM)) return true;
      letters = 0;
      prevAlnum = false;
    }
  }
  return plus && digits >= 8;
};

const PEM = ascii('-----BEGIN ');
const EYJ = ascii('eyJ');
const AKIA = ascii('AKIA');
const ASIA = ascii('ASIA');
const XOX = ascii('xox');
const K_LIVE = ascii('k_live_');
const K_TEST = ascii('k_test_');
const GITHUB_PAT = ascii('github_pat_');

/** The fixed prefixes of the token detectors (jwt, aws, github, slack, stripe). */
function tokenAt(b: Uint8Array, i: number, end: number, c: number): boolean {
  switch (c) {
    case 101: // e
      return startsWith(b, i, end, EYJ);
    case 65: // A
      return startsWith(b, i, end, AKIA) || startsWith(b, i, end, ASIA);
    case 120: // x
      return startsWith(b, i, end, XOX);
    case 107: // k
      return startsWith(b, i, end, K_LIVE) || startsWith(b, i, end, K_TEST);
    case 103: {
      // g: gh[pousr]_ or github_pat_
      if (
        i + 3 < end &&
        b[i + 1] === 104 &&
        b[i + 3] === 95 &&
        'pousr'.includes(String.fromCharCode(b[i + 2] as number))
      )
        return true;
      return startsWith(b, i, end, GITHUB_PAT);
    }
    default:
      return false;
  }
}

function startsWith(b: Uint8Array, i: number, end: number, lit: Uint8Array): boolean {
  if (end - i < lit.length) return false;
  for (let j = 0; j < lit.length; j++) if (b[i + j] !== lit[j]) return false;
  return true;
}

function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (ch) => ch.charCodeAt(0));
}

/** The built-in test on a string (rendered numbers, decoded JSON strings and array elements). */
export function builtinPrefilterText(text: string): boolean {
  const n = text.length;
  if (n < MIN_LENGTH) return false;
  // Every trigger is ASCII, and no detector counts a non-ASCII character as a letter or digit
  // where the triggers look, so mapping those characters to a space keeps the answer.
  const bytes = n <= SCRATCH.length ? SCRATCH : new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    bytes[i] = c < 0x80 ? c : 0x20;
  }
  return builtinPrefilter(bytes, 0, n);
}

const SCRATCH = new Uint8Array(256);
