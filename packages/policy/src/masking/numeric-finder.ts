import { luhnValid } from './checksums.js';
import { type Emit, type Finder, isAlnum } from './finder.js';

/**
 * Payment cards, US social security numbers and phone numbers: one pass over the digit runs of the
 * text. A chunk is a stretch of digit groups joined by up to two separator characters
 * (space - . / ( )); most chunks in real data (ids, amounts, dates, times) are too short or
 * wrongly shaped and are dropped after a length check, which keeps the common case cheap.
 */

// A cheap first pass finds stretches of digits and separators long enough to hold a value; the
// exact chunk regex then runs inside those only. Each repetition of CHUNK must consume a digit, so
// it cannot backtrack more than two characters. Both are shared by all calls: masking is
// synchronous, so resetting lastIndex before a scan is enough.
const CANDIDATE = /[+(]?\d[\d \-./()]{8,}/g;
const CHUNK = /[+(]?\d(?:[ \-./()]{0,2}\d)*/g;

/** Fewest digits a value can have: 8 for E.164 (after a `+`), 9 for an SSN, more for the rest. */
const MIN_DIGITS_E164 = 8;
const MIN_DIGITS = 9;

interface Group {
  readonly start: number;
  readonly end: number;
  readonly digits: string;
}

interface Chunk {
  readonly groups: Group[];
  /** seps[i] is the text between groups[i] and groups[i + 1]. */
  readonly seps: string[];
  /** Text before the first group inside the chunk (`+`, `(`) — or ''. */
  readonly lead: string;
  readonly start: number;
  /** The first / last group touch a letter or digit outside the chunk: they belong to a word. */
  readonly attachedStart: boolean;
  readonly attachedEnd: boolean;
}

const SSN_CONTEXT = /(?:ssn|social\s*security|soc\.?\s*sec)(?:\s*(?:number|num|nr|no))?\W{0,12}$/i;

export const numericFinder: Finder = {
  detects: ['card', 'ssn', 'phone'],
  find(text: string, wanted: ReadonlySet<string>, emit: Emit): void {
    CANDIDATE.lastIndex = 0;
    for (let c = CANDIDATE.exec(text); c !== null; c = CANDIDATE.exec(text)) {
      const stretch = c[0];
      CHUNK.lastIndex = 0;
      for (let m = CHUNK.exec(stretch); m !== null; m = CHUNK.exec(stretch)) {
        const raw = m[0];
        // Most chunks in real data (dates, times, amounts, short ids) end here, before any parsing.
        const min = raw.charCodeAt(0) === 43 ? MIN_DIGITS_E164 : MIN_DIGITS;
        if (raw.length < MIN_DIGITS || countDigits(raw) < min) continue;
        const chunk = parseChunk(text, raw, c.index + m.index);
        if (wanted.has('phone')) findPhones(chunk, text, emit);
        if (wanted.has('card')) findCards(chunk, emit);
        if (wanted.has('ssn')) findSsns(chunk, text, emit);
      }
    }
  },
};

function countDigits(raw: string): number {
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
}

function parseChunk(text: string, raw: string, start: number): Chunk {
  const groups: Group[] = [];
  const seps: string[] = [];
  let lead = '';
  let i = 0;
  while (i < raw.length) {
    const s = i;
    while (i < raw.length && raw.charCodeAt(i) >= 48 && raw.charCodeAt(i) <= 57) i++;
    if (i > s) {
      groups.push({ start: start + s, end: start + i, digits: raw.slice(s, i) });
    } else {
      while (i < raw.length && (raw.charCodeAt(i) < 48 || raw.charCodeAt(i) > 57)) i++;
      if (groups.length === 0) lead = raw.slice(s, i);
      else seps.push(raw.slice(s, i));
    }
  }
  const end = start + raw.length;
  return {
    groups,
    seps,
    lead,
    start,
    attachedStart: lead === '' && start > 0 && isAlnum(text.charCodeAt(start - 1)),
    attachedEnd: end < text.length && isAlnum(text.charCodeAt(end)),
  };
}

/** Issuer prefixes of the card networks in use; rules out timestamps like `20240301…` (2024 < 2221). */
function plausibleIssuer(d: string): boolean {
  const c = d.charCodeAt(0) - 48;
  if (c === 4 || c === 6) return true;
  if (c === 5) return d.charCodeAt(1) - 48 <= 8;
  if (c === 3) return d[1] !== '1' && d[1] !== '2' && d[1] !== '3';
  if (c === 2) {
    const p = Number(d.slice(0, 4));
    return (p >= 2200 && p <= 2204) || (p >= 2221 && p <= 2720);
  }
  return false;
}

/**
 * 13–19 digits, either one group or groups separated by one space or dash in the printed shapes
 * (4-4-4-4, 4-6-5, 4-4-4-4-3…: first group of 4, middle groups of 4–6). Luhn and the issuer
 * prefix must hold, so a 16-digit order id fails nine times in ten and most others never qualify.
 */
function findCards(chunk: Chunk, emit: Emit): void {
  const { groups, seps } = chunk;
  for (let i = 0; i < groups.length; i++) {
    if (i === 0 && chunk.attachedStart) continue;
    const first = groups[i] as Group;
    if (first.digits.length !== 4 && (first.digits.length < 13 || first.digits.length > 19)) continue;
    let digits = '';
    let best = -1;
    for (let j = i; j < groups.length; j++) {
      const g = groups[j] as Group;
      if (j > i) {
        const sep = seps[j - 1];
        if (sep !== ' ' && sep !== '-') break;
        const prevLen = (groups[j - 1] as Group).digits.length;
        if (j - 1 > i && (prevLen < 4 || prevLen > 6)) break;
        if (j - 1 === i && prevLen !== 4) break;
        if (g.digits.length > 6) break;
      }
      digits += g.digits;
      if (digits.length > 19) break;
      const endsAttached = j === groups.length - 1 && chunk.attachedEnd;
      if (digits.length >= 13 && !endsAttached && plausibleIssuer(digits) && luhnValid(digits)) best = j;
      if (j === i && first.digits.length !== 4) break;
    }
    if (best !== -1) {
      emit('card', first.start, (groups[best] as Group).end);
      i = best;
    }
  }
}

function validSsn(area: string, group: string, serial: string): boolean {
  return area !== '000' && area !== '666' && area[0] !== '9' && group !== '00' && serial !== '0000';
}

/**
 * `123-45-6789` or `123 45 6789` standing alone (the separators around it differ from its own, so
 * it is not a slice of a longer list of numbers); a bare 9-digit number only right after a label
 * such as "SSN:", because any 9-digit id would otherwise qualify. Areas 000, 666 and 9xx, group
 * 00 and serial 0000 are never issued.
 */
function findSsns(chunk: Chunk, text: string, emit: Emit): void {
  const { groups, seps } = chunk;
  for (let i = 0; i + 2 < groups.length; i++) {
    const [a, g, s] = [groups[i] as Group, groups[i + 1] as Group, groups[i + 2] as Group];
    if (a.digits.length !== 3 || g.digits.length !== 2 || s.digits.length !== 4) continue;
    const sep = seps[i];
    if ((sep !== '-' && sep !== ' ') || seps[i + 1] !== sep) continue;
    if (!standsAlone(chunk, i, i + 2, sep)) continue;
    if (validSsn(a.digits, g.digits, s.digits)) emit('ssn', a.start, s.end);
  }
  for (let i = 0; i < groups.length; i++) {
    const one = groups[i] as Group;
    if (one.digits.length !== 9 || (i === 0 && chunk.attachedStart)) continue;
    if (i === groups.length - 1 && chunk.attachedEnd) continue;
    const d = one.digits;
    if (!validSsn(d.slice(0, 3), d.slice(3, 5), d.slice(5))) continue;
    if (SSN_CONTEXT.test(text.slice(Math.max(0, one.start - 32), one.start))) emit('ssn', one.start, one.end);
  }
}

/** Groups first..last are not glued to words and not continued by the same separator. */
function standsAlone(chunk: Chunk, first: number, last: number, sep: string): boolean {
  if (first === 0 ? chunk.attachedStart : chunk.seps[first - 1] === sep) return false;
  if (last === chunk.groups.length - 1 ? chunk.attachedEnd : chunk.seps[last] === sep) return false;
  return true;
}

/**
 * E.164 (`+` and 8–15 digits, any of space - . ( ) between groups) and North American national
 * forms: `(555) 123-4567`, `555-123-4567`, `555.123.4567`, `555 123 4567`, optionally led by
 * `1-`. Area codes and exchanges are not checked against the numbering plan: `555-123-4567` and
 * `123-456-7890` look like phone numbers to a reader, which is what masking is about. Bare digit
 * strings are not phones: they are far more often ids.
 */
function findPhones(chunk: Chunk, text: string, emit: Emit): void {
  const { groups, seps } = chunk;
  if (chunk.lead === '+' && !(chunk.start > 0 && isAlnum(text.charCodeAt(chunk.start - 1)))) {
    let digits = 0;
    let last = -1;
    for (let j = 0; j < groups.length; j++) {
      if (j > 0 && (seps[j - 1] as string).includes('/')) break;
      const n = (groups[j] as Group).digits.length;
      if (digits + n > 15) break;
      digits += n;
      last = j;
    }
    if (last === groups.length - 1 && chunk.attachedEnd) last = -1;
    if (digits >= 8 && last !== -1 && (groups[0] as Group).digits[0] !== '0') {
      emit('phone', chunk.start, (groups[last] as Group).end);
    }
  }
  for (let i = 0; i + 2 < groups.length; i++) {
    const [a, x, l] = [groups[i] as Group, groups[i + 1] as Group, groups[i + 2] as Group];
    if (a.digits.length !== 3 || x.digits.length !== 3 || l.digits.length !== 4) continue;
    const inner = seps[i + 1] as string;
    if (inner !== '-' && inner !== '.' && inner !== ' ') continue;
    const before = i === 0 ? chunk.lead : (seps[i - 1] as string);
    const after = seps[i] as string;
    const parens = before.endsWith('(') && (after === ')' || after === ') ' || after === ')-');
    if (!parens && after !== inner) continue;
    let first = i;
    // A leading `1` country code: `1-555-123-4567`, `1 (555) 123-4567`.
    if (i > 0 && (groups[i - 1] as Group).digits === '1' && /^[ .-]\(?$/.test(before)) first = i - 1;
    const lead = first === i && !parens ? before : first > 0 ? (seps[first - 1] as string) : chunk.lead;
    if (first === 0 ? chunk.attachedStart || lead === '+' : lead === inner) continue;
    if (i + 2 === groups.length - 1 ? chunk.attachedEnd : seps[i + 2] === inner) continue;
    const startPos = parens && first === i ? a.start - 1 : (groups[first] as Group).start;
    emit('phone', startPos, l.end);
  }
}
