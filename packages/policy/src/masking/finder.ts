/**
 * A finder locates sensitive spans in text for one or more detectors (the numeric finder serves
 * card, SSN and phone with one pass over the digits). Finders must run in time linear in the text:
 * they see everything that leaves an upstream, including hostile content.
 */
export type Emit = (detector: string, start: number, end: number) => void;

export interface Finder {
  /** Names of the detectors this finder reports. */
  readonly detects: readonly string[];
  /** Reports spans of the `wanted` detectors, in any order; overlaps are resolved by the caller. */
  find(text: string, wanted: ReadonlySet<string>, emit: Emit): void;
}

/** ASCII letter or digit. */
export function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * Non-ASCII code units that may appear inside words (accented and non-Latin letters), excluding
 * Latin-1 punctuation, general punctuation (curly quotes, dashes, spaces) and CJK punctuation, so
 * that `«bob@example.com»` does not swallow the guillemets.
 */
export function isWordishNonAscii(c: number): boolean {
  if (c < 0xc0) return false;
  if (c === 0xd7 || c === 0xf7) return false;
  if (c >= 0x2000 && c <= 0x206f) return false;
  if (c >= 0x3000 && c <= 0x303f) return false;
  if (c >= 0xfe30 && c <= 0xfe6f) return false;
  if (c >= 0xff00 && c <= 0xff0f) return false;
  return c !== 0xfeff;
}
