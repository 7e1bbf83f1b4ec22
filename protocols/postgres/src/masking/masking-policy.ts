import type { Masker } from '@gatehouse/core';
import { FULL_MASK } from '@gatehouse/policy';

/**
 * `'masker'` (the default): values skip the detectors when the masker's `mayDetect` rules them
 * out. `'none'`: every text value goes through `maskText` (for measurements and tests).
 */
export type PrefilterOption = 'masker' | 'none';

/**
 * What result masking needs from the policy: `Masker` itself, whose optional members
 * (`coversColumn`, `hasColumnRules`, `hasDetectors`, `mayDetect`) make it fast. Kept as a name for
 * existing callers.
 */
export type ResultMaskingPolicy = Masker;

const CACHE_LIMIT = 4096;

/**
 * The masker as the result masker uses it: column coverage cached, the prefilter chosen once.
 * Everything here comes from the policy's Masker (`coversColumn`, `hasColumnRules`,
 * `hasDetectors`, `mayDetect`); a masker that leaves them out gets the answers that cannot leak:
 * every named column covered, column rules and detectors present, every text a candidate.
 * `covered` style for a value whose rule is not known by name (a whole row of a table whose
 * columns are unknown) is the full mask.
 */
export class MaskingPolicyView {
  readonly hasColumnRules: boolean;
  readonly hasDetectors: boolean;
  private readonly covers = new Map<string, boolean>();
  private readonly covering: (column: string) => boolean;
  private readonly filter: ((bytes: Uint8Array, start: number, end: number) => boolean) | undefined;

  constructor(
    private readonly masker: Masker,
    prefilter: PrefilterOption | undefined,
  ) {
    this.hasColumnRules = masker.hasColumnRules ?? true;
    this.hasDetectors = masker.hasDetectors ?? true;
    this.covering = masker.coversColumn?.bind(masker) ?? (() => true);
    this.filter = prefilter === 'none' ? undefined : masker.mayDetect?.bind(masker);
  }

  coversColumn(column: string): boolean {
    if (!this.hasColumnRules || column === '') return false;
    let hit = this.covers.get(column);
    if (hit !== undefined) return hit;
    hit = this.covering(column);
    if (this.covers.size >= CACHE_LIMIT) this.covers.clear();
    this.covers.set(column, hit);
    return hit;
  }

  /** May maskText change these bytes (UTF-8, or Latin-1 for bytea)? */
  mayDetect(bytes: Uint8Array, start: number, end: number): boolean {
    if (!this.hasDetectors) return false;
    return this.filter === undefined || this.filter(bytes, start, end);
  }

  /** May maskText change this text (rendered numbers, decoded JSON strings and array elements)? */
  mayDetectText(text: string): boolean {
    if (!this.hasDetectors) return false;
    if (this.filter === undefined) return true;
    const n = text.length;
    if (n <= SCRATCH.length) {
      let ascii = true;
      for (let i = 0; i < n; i++) {
        const c = text.charCodeAt(i);
        if (c >= 0x80) {
          ascii = false;
          break;
        }
        SCRATCH[i] = c;
      }
      if (ascii) return this.filter(SCRATCH, 0, n);
    }
    const bytes = Buffer.from(text, 'utf8');
    return this.filter(bytes, 0, bytes.length);
  }

  maskText(text: string): string {
    return this.hasDetectors ? this.masker.maskText(text) : text;
  }

  /** The whole value masked in the style of the rule covering `column`, or fully when unknown. */
  maskWhole(column: string | undefined, text: string): string {
    if (column === undefined) return text === '' ? text : FULL_MASK;
    return this.masker.maskValue(column, text);
  }
}

/** Masking is synchronous: one scratch buffer serves every short ASCII text. */
const SCRATCH = new Uint8Array(256);
