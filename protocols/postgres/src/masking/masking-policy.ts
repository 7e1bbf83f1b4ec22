import type { Masker } from '@gatehouse/core';
import { FULL_MASK } from '@gatehouse/policy';
import { builtinPrefilter, builtinPrefilterText, type Prefilter } from './prefilter.js';

/**
 * What result masking needs from the policy engine's Masker. The optional members are not part of
 * `Masker` yet; without them the result masker probes `maskValue` and stays on the safe side (see
 * `MaskingPolicyView`), which costs speed, never masking.
 */
export interface ResultMaskingPolicy extends Masker {
  /** Whether a column rule covers this column name or JSON path (maskValue would mask it whole). */
  coversColumn?(column: string): boolean;
  /** False when no column rule applies: whole-row references then need no masking as a whole. */
  readonly hasColumnRules?: boolean;
  /** False when no detector is enabled, so maskText never changes anything. */
  readonly hasDetectors?: boolean;
  /** False only when maskText would certainly return the text (given as UTF-8 bytes) unchanged. */
  mayDetect?(bytes: Uint8Array, start: number, end: number): boolean;
}

export type PrefilterOption = 'builtin' | 'none' | Prefilter;

/** Two probes, so that a custom detector matching one of them cannot hide a column rule. */
const PROBES = ['Gatehouse probe value 7QXK', 'another probe, ZVW9 ok'];
const CACHE_LIMIT = 4096;

/**
 * The masker as the result masker uses it: column coverage answered and cached, the prefilter
 * chosen once. `covered` style for a value whose rule is not known by name (a whole row of a table
 * whose columns are unknown) is the full mask.
 */
export class MaskingPolicyView {
  readonly hasColumnRules: boolean;
  readonly hasDetectors: boolean;
  /**
   * Fewest digits a number must print with for a detector to find anything in it (0: unknown).
   * The built-in detectors need 8 (a `+`-less number needs 9, but a money amount prints a `-`).
   */
  readonly numberDigits: number;
  private readonly covers = new Map<string, boolean>();
  private readonly probeText: readonly string[];
  private readonly filter: Prefilter | undefined;
  private readonly filterIsBuiltin: boolean;

  constructor(
    private readonly masker: ResultMaskingPolicy,
    prefilter: PrefilterOption | undefined,
  ) {
    this.hasColumnRules = masker.hasColumnRules ?? true;
    this.hasDetectors = masker.hasDetectors ?? true;
    this.probeText = PROBES.map((p) => masker.maskText(p));
    if (masker.mayDetect !== undefined) {
      const own = masker.mayDetect.bind(masker);
      this.filter = own;
    } else if (prefilter === 'builtin') {
      this.filter = builtinPrefilter;
    } else if (typeof prefilter === 'function') {
      this.filter = prefilter;
    }
    this.filterIsBuiltin = this.filter === builtinPrefilter;
    this.numberDigits = this.filterIsBuiltin ? 8 : 0;
  }

  coversColumn(column: string): boolean {
    if (!this.hasColumnRules || column === '') return false;
    let hit = this.covers.get(column);
    if (hit !== undefined) return hit;
    if (this.masker.coversColumn !== undefined) hit = this.masker.coversColumn(column);
    else hit = PROBES.some((p, i) => this.masker.maskValue(column, p) !== this.probeText[i]);
    if (this.covers.size >= CACHE_LIMIT) this.covers.clear();
    this.covers.set(column, hit);
    return hit;
  }

  /** May maskText change these bytes? */
  mayDetect(bytes: Uint8Array, start: number, end: number): boolean {
    if (!this.hasDetectors) return false;
    return this.filter === undefined || this.filter(bytes, start, end);
  }

  mayDetectText(text: string): boolean {
    if (!this.hasDetectors) return false;
    if (this.filter === undefined) return true;
    if (this.filterIsBuiltin) return builtinPrefilterText(text);
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
