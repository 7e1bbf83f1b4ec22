/**
 * Masking inside JSON text (json, jsonb, row_to_json output) field by field, keeping it valid JSON
 * and leaving every untouched byte as it was (numbers keep their precision, formatting stays).
 *
 * - A field whose key (as a path `column.key.subkey`, matched like a column name) is covered by a
 *   column rule is masked whole, and so is everything under it; strings and numbers become masked
 *   strings, booleans and nulls stay.
 * - Everything else — string values, numbers and keys — goes through the detectors.
 *
 * The scanner is linear and iterative (nesting depth costs heap, not stack) and answers `null` for
 * text that is not JSON, so that the caller can mask such a value as a whole.
 */

/** How a covered value is masked: in the style of the rule for `column` (undefined: full mask). */
export interface Cover {
  readonly column: string | undefined;
}

export interface JsonMasking {
  /** The path of the document itself (the result column's name); keys extend it with dots. */
  readonly path: string;
  /**
   * Cover for a field, given its path and its depth in objects (1 for the keys of the outermost
   * objects, also when they are elements of arrays, as json_agg makes them).
   */
  coverOf(path: string, key: string, depth: number): Cover | null;
  mayDetect(text: string): boolean;
  maskText(text: string): string;
  maskWhole(cover: Cover, text: string): string;
}

type FrameState = 'first' | 'key' | 'value' | 'after';

interface Frame {
  readonly array: boolean;
  readonly path: string;
  readonly cover: Cover | null;
  /** Objects among this frame and its ancestors. */
  readonly depth: number;
  /** first: just opened; key: a key must follow; value: a value must follow; after: `,` or close. */
  state: FrameState;
  /** Path and cover of the value after the current key (objects). */
  slotPath: string;
  slotCover: Cover | null;
}

interface Splice {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/** Returns the masked JSON, the same string when nothing changed, or null when it is not JSON. */
export function maskJson(text: string, m: JsonMasking, root: Cover | null): string | null {
  const splices: Splice[] = [];
  const stack: Frame[] = [];
  const n = text.length;
  let topDone = false;
  let i = 0;

  /** Where a value may start now: its path and cover; undefined when no value may start here. */
  const takeValue = (): { path: string; cover: Cover | null } | undefined => {
    const top = stack[stack.length - 1];
    if (top === undefined) {
      if (topDone) return undefined;
      topDone = true;
      return { path: m.path, cover: root };
    }
    if (top.array) {
      if (top.state !== 'first' && top.state !== 'value') return undefined;
      top.state = 'after';
      return { path: top.path, cover: top.cover };
    }
    if (top.state !== 'value') return undefined;
    top.state = 'after';
    return { path: top.slotPath, cover: top.slotCover };
  };
  const maskScalar = (start: number, end: number, decoded: string, cover: Cover | null): void => {
    let masked: string;
    if (cover !== null) masked = m.maskWhole(cover, decoded);
    else if (m.mayDetect(decoded)) masked = m.maskText(decoded);
    else return;
    if (masked !== decoded) splices.push({ start, end, text: JSON.stringify(masked) });
  };

  while (i < n) {
    const c = text.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (c === 123 /* { */ || c === 91 /* [ */) {
      const at = takeValue();
      if (at === undefined) return null;
      stack.push({
        array: c === 91,
        path: at.path,
        cover: at.cover,
        depth: (stack[stack.length - 1]?.depth ?? 0) + (c === 123 ? 1 : 0),
        state: 'first',
        slotPath: at.path,
        slotCover: at.cover,
      });
      i++;
      continue;
    }
    if (c === 125 /* } */ || c === 93 /* ] */) {
      const top = stack.pop();
      if (top === undefined || top.array !== (c === 93)) return null;
      if (top.state !== 'first' && top.state !== 'after') return null;
      i++;
      continue;
    }
    if (c === 44 /* , */) {
      const top = stack[stack.length - 1];
      if (top === undefined || top.state !== 'after') return null;
      top.state = top.array ? 'value' : 'key';
      i++;
      continue;
    }
    if (c === 34 /* " */) {
      const end = stringEnd(text, i);
      if (end === -1) return null;
      const raw = text.slice(i, end);
      const decoded = decodeString(raw);
      if (decoded === null) return null;
      const top = stack[stack.length - 1];
      if (top !== undefined && !top.array && (top.state === 'first' || top.state === 'key')) {
        // A key: detectors see it; its path decides the cover of its value.
        if (m.mayDetect(decoded)) {
          const masked = m.maskText(decoded);
          if (masked !== decoded) splices.push({ start: i, end, text: JSON.stringify(masked) });
        }
        let j = end;
        while (j < n && isSpace(text.charCodeAt(j))) j++;
        if (text.charCodeAt(j) !== 58 /* : */) return null;
        top.state = 'value';
        top.slotPath = `${top.path}.${decoded}`;
        top.slotCover = top.cover ?? m.coverOf(top.slotPath, decoded, top.depth);
        i = j + 1;
        continue;
      }
      const at = takeValue();
      if (at === undefined) return null;
      maskScalar(i, end, decoded, at.cover);
      i = end;
      continue;
    }
    if (c === 45 || (c >= 48 && c <= 57)) {
      let j = i + 1;
      while (j < n && isNumberChar(text.charCodeAt(j))) j++;
      const raw = text.slice(i, j);
      if (!NUMBER.test(raw)) return null;
      const at = takeValue();
      if (at === undefined) return null;
      maskScalar(i, j, raw, at.cover);
      i = j;
      continue;
    }
    const literal =
      text.startsWith('true', i) || text.startsWith('null', i) ? 4 : text.startsWith('false', i) ? 5 : 0;
    if (literal === 0 || takeValue() === undefined) return null;
    i += literal;
  }
  if (stack.length > 0 || !topDone) return null;
  if (splices.length === 0) return text;
  let out = '';
  let pos = 0;
  for (const s of splices) {
    out += text.slice(pos, s.start) + s.text;
    pos = s.end;
  }
  return out + text.slice(pos);
}

const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

function isNumberChar(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 46 || c === 101 || c === 69 || c === 43 || c === 45;
}

/** Index just past the closing quote of the string starting at `i`, or -1. */
function stringEnd(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 92) j++;
    else if (c === 34) return j + 1;
    else if (c < 0x20) return -1;
  }
  return -1;
}

function decodeString(raw: string): string | null {
  if (!raw.includes('\\')) return raw.slice(1, -1);
  try {
    return JSON.parse(raw) as string;
  } catch {
    return null;
  }
}
