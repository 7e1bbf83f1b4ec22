/**
 * `Masker.mayDetect`: a cheap test on a value's bytes that is false only when `maskText` would
 * certainly return the value unchanged, so that the common value (a name, an id, a status) costs
 * one pass over its bytes and no string decoding.
 *
 * The bytes are read as UTF-8, and also as Latin-1 by callers that mask bytea that way: every
 * trigger below is ASCII, and ASCII bytes are the same characters in both readings (no other byte
 * decodes to an ASCII character), so the answer holds for either.
 *
 * Built-in detectors are gated by their entry conditions (an `@`; 9 digits, or 8 with a `+`; a
 * two-letter word followed by two digits; the literal prefixes of the token shapes; a PEM BEGIN
 * line). A custom detector is gated by an ASCII literal that every match of its pattern contains,
 * when one can be read off the pattern; otherwise it may match anything and the answer is true.
 */

export type MayDetect = (bytes: Uint8Array, start: number, end: number) => boolean;

/** Below this many characters (so bytes) no built-in detector matches (`a@b.co`). */
const MIN_BUILTIN_LENGTH = 6;

interface Gates {
  readonly email: boolean;
  /** card, ssn, phone */
  readonly numeric: boolean;
  readonly phone: boolean;
  readonly iban: boolean;
  readonly jwt: boolean;
  readonly aws: boolean;
  readonly github: boolean;
  readonly slack: boolean;
  readonly stripe: boolean;
  readonly pem: boolean;
}

interface CustomGate {
  /** Lower-cased when `ignoreCase`. */
  readonly literal: Uint8Array;
  readonly ignoreCase: boolean;
}

export interface CustomPattern {
  readonly pattern: RegExp;
}

/**
 * The prefilter for a set of enabled detectors (built-in names and custom patterns); always false
 * when none is enabled.
 */
export function createMayDetect(enabled: ReadonlySet<string>, custom: readonly CustomPattern[]): MayDetect {
  const gates: Gates = {
    email: enabled.has('email'),
    numeric: enabled.has('card') || enabled.has('ssn') || enabled.has('phone'),
    phone: enabled.has('phone'),
    iban: enabled.has('iban'),
    jwt: enabled.has('jwt'),
    aws: enabled.has('aws-access-key'),
    github: enabled.has('github-token'),
    slack: enabled.has('slack-token'),
    stripe: enabled.has('stripe-key'),
    pem: enabled.has('private-key'),
  };
  const anyBuiltin = Object.values(gates).some((g) => g);
  const literals: CustomGate[] = [];
  let anyText = false;
  for (const c of custom) {
    const gate = requiredLiteral(c.pattern);
    if (gate === undefined) anyText = true;
    else literals.push(gate);
  }
  if (anyText) return (_b, start, end) => end > start;
  if (!anyBuiltin && literals.length === 0) return () => false;
  return (b, start, end) => {
    if (anyBuiltin && end - start >= MIN_BUILTIN_LENGTH && builtinMayDetect(gates, b, start, end))
      return true;
    for (const g of literals) if (contains(b, start, end, g)) return true;
    return false;
  };
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isLetter = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

function builtinMayDetect(g: Gates, b: Uint8Array, start: number, end: number): boolean {
  let digits = 0;
  let plus = false;
  let letters = 0;
  let runAtBoundary = false;
  let prevAlnum = false;
  for (let i = start; i < end; i++) {
    const c = b[i] as number;
    if (isDigit(c)) {
      if (++digits >= 9 && g.numeric) return true;
      // IBAN: exactly two letters starting a word, then two digits.
      if (g.iban && letters === 2 && runAtBoundary && i + 1 < end && isDigit(b[i + 1] as number)) return true;
      letters = 0;
      prevAlnum = true;
    } else if (isLetter(c)) {
      if (letters === 0) runAtBoundary = !prevAlnum;
      letters++;
      prevAlnum = true;
      if (tokenAt(g, b, i, end, c)) return true;
    } else {
      if (c === 64 && g.email) return true; // @
      if (c === 43) plus = true;
      else if (c === 45 && g.pem && startsWith(b, i, end, PEM)) return true;
      letters = 0;
      prevAlnum = false;
    }
  }
  // E.164: a `+` and 8 digits.
  return g.phone && plus && digits >= 8;
}

const PEM = ascii('-----BEGIN ');
const EYJ = ascii('eyJ');
const AKIA = ascii('AKIA');
const ASIA = ascii('ASIA');
const XOX = ascii('xox');
const K_LIVE = ascii('k_live_');
const K_TEST = ascii('k_test_');
const GITHUB_PAT = ascii('github_pat_');

/** The fixed prefixes of the token detectors (jwt, aws, github, slack, stripe). */
function tokenAt(g: Gates, b: Uint8Array, i: number, end: number, c: number): boolean {
  switch (c) {
    case 101: // e
      return g.jwt && startsWith(b, i, end, EYJ);
    case 65: // A
      return g.aws && (startsWith(b, i, end, AKIA) || startsWith(b, i, end, ASIA));
    case 120: // x
      return g.slack && startsWith(b, i, end, XOX);
    case 107: // k
      return g.stripe && (startsWith(b, i, end, K_LIVE) || startsWith(b, i, end, K_TEST));
    case 103: {
      // g: gh[pousr]_ or github_pat_
      if (!g.github) return false;
      if (i + 3 < end && b[i + 1] === 104 && b[i + 3] === 95 && isGithubKind(b[i + 2] as number)) return true;
      return startsWith(b, i, end, GITHUB_PAT);
    }
    default:
      return false;
  }
}

/** p o u s r */
function isGithubKind(c: number): boolean {
  return c === 112 || c === 111 || c === 117 || c === 115 || c === 114;
}

function startsWith(b: Uint8Array, i: number, end: number, lit: Uint8Array): boolean {
  if (end - i < lit.length) return false;
  for (let j = 0; j < lit.length; j++) if (b[i + j] !== lit[j]) return false;
  return true;
}

function contains(b: Uint8Array, start: number, end: number, g: CustomGate): boolean {
  const lit = g.literal;
  const first = lit[0] as number;
  const last = end - lit.length;
  for (let i = start; i <= last; i++) {
    const c = g.ignoreCase ? lower(b[i] as number) : (b[i] as number);
    if (c !== first) continue;
    let j = 1;
    for (; j < lit.length; j++) {
      const d = g.ignoreCase ? lower(b[i + j] as number) : (b[i + j] as number);
      if (d !== lit[j]) break;
    }
    if (j === lit.length) return true;
  }
  return false;
}

function lower(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (ch) => ch.charCodeAt(0));
}

// ---- required literals of custom patterns ----

/**
 * The longest run of ASCII characters that every match of `pattern` contains, read off the
 * pattern's top level (groups, classes, escapes other than of punctuation, and optional or
 * repeated characters end a run); undefined when there is none, when the top level has an
 * alternation, or for flags this reading does not handle. Conservative by construction: anything
 * not understood ends the run.
 */
export function requiredLiteral(pattern: RegExp): CustomGate | undefined {
  const flags = pattern.flags;
  if (flags.includes('v') || flags.includes('x')) return undefined;
  const ignoreCase = flags.includes('i');
  const unicode = flags.includes('u');
  const src = pattern.source;
  let best = '';
  let run = '';
  const endRun = (): void => {
    if (run.length > best.length) best = run;
    run = '';
  };
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    let literal: string | undefined;
    if (c === '\\') {
      const e = src[i + 1];
      if (e === undefined) return undefined;
      if (e.charCodeAt(0) < 0x80 && !/[A-Za-z0-9_]/.test(e)) {
        literal = e;
        i += 2;
      } else {
        i = skipEscape(src, i + 1);
      }
    } else if (c === '[') {
      const close = skipClass(src, i);
      if (close === -1) return undefined;
      i = close;
    } else if (c === '(') {
      const close = skipGroup(src, i);
      if (close === -1) return undefined;
      i = close;
    } else if (c === '|' || c === ')') {
      return undefined;
    } else if (c === '.' || c === '^' || c === '$') {
      i++;
    } else if (c === '*' || c === '+' || c === '?' || (c === '{' && quantifierLength(src, i) > 0)) {
      // A quantifier with nothing before it that we took for a literal (after a group, class…).
      i += c === '{' ? quantifierLength(src, i) : 1;
      if (src[i] === '?') i++;
      endRun();
      continue;
    } else {
      literal = c;
      i++;
    }
    if (literal === undefined) {
      endRun();
      i = quantifierAt(src, i)?.next ?? i;
      continue;
    }
    // The literal atom: its quantifier decides whether it is required and whether the run goes on.
    const q = quantifierAt(src, i);
    const usable = literal.charCodeAt(0) < 0x80 && !(ignoreCase && unicode && /[ksKS]/.test(literal));
    if (q === undefined) {
      if (usable) run += ignoreCase ? literal.toLowerCase() : literal;
      else endRun();
      continue;
    }
    i = q.next;
    if (q.min >= 1 && usable) run += ignoreCase ? literal.toLowerCase() : literal;
    endRun();
  }
  endRun();
  if (best === '') return undefined;
  return { literal: ascii(best), ignoreCase };
}

interface Quantifier {
  readonly min: number;
  readonly next: number;
}

function quantifierAt(src: string, i: number): Quantifier | undefined {
  const c = src[i];
  let min: number;
  let next: number;
  if (c === '*' || c === '?') {
    min = 0;
    next = i + 1;
  } else if (c === '+') {
    min = 1;
    next = i + 1;
  } else if (c === '{') {
    const n = quantifierLength(src, i);
    if (n === 0) return undefined;
    min = Number(/^\{(\d+)/.exec(src.slice(i))?.[1] ?? '0');
    next = i + n;
  } else {
    return undefined;
  }
  if (src[next] === '?') next++;
  return { min, next };
}

/** Length of a `{n}`, `{n,}` or `{n,m}` quantifier at `i`, or 0 (then `{` is a literal). */
function quantifierLength(src: string, i: number): number {
  const m = /^\{\d+(?:,\d*)?\}/.exec(src.slice(i, i + 24));
  return m === null ? 0 : m[0].length;
}

/** Past an escape whose letter is at `i` (not a literal punctuation character): greedy, so safe. */
function skipEscape(src: string, i: number): number {
  const e = src[i] as string;
  const hex = (from: number, max: number): number => {
    let j = from;
    while (j < src.length && j - from < max && /[0-9A-Fa-f]/.test(src[j] as string)) j++;
    return j;
  };
  const braced = (from: number, close: string): number => {
    const end = src.indexOf(close, from);
    return end === -1 ? src.length : end + 1;
  };
  switch (e) {
    case 'x':
      return hex(i + 1, 2);
    case 'u':
      return src[i + 1] === '{' ? braced(i + 1, '}') : hex(i + 1, 4);
    case 'c':
      return /[A-Za-z]/.test(src[i + 1] ?? '') ? i + 2 : i + 1;
    case 'p':
    case 'P':
      return src[i + 1] === '{' ? braced(i + 1, '}') : i + 1;
    case 'k':
      return src[i + 1] === '<' ? braced(i + 1, '>') : i + 1;
    default: {
      let j = i + 1;
      if (/[0-9]/.test(e)) while (j < src.length && /[0-9]/.test(src[j] as string)) j++;
      return j;
    }
  }
}

/** Past the `]` closing the class opened at `i`, or -1 (`[]` and `[^]` are whole classes in JS). */
function skipClass(src: string, i: number): number {
  let j = i + 1;
  if (src[j] === '^') j++;
  while (j < src.length && src[j] !== ']') j += src[j] === '\\' ? 2 : 1;
  return j < src.length ? j + 1 : -1;
}

/** Past the `)` closing the group opened at `i`, or -1. */
function skipGroup(src: string, i: number): number {
  let depth = 0;
  let j = i;
  while (j < src.length) {
    const c = src[j];
    if (c === '\\') {
      j += 2;
      continue;
    }
    if (c === '[') {
      j = skipClass(src, j);
      if (j === -1) return -1;
      continue;
    }
    if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return j + 1;
    j++;
  }
  return -1;
}
