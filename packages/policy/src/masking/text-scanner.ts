import { normalizeDetected } from './detectors.js';
import type { Finder } from './finder.js';
import type { StyleFn } from './styles.js';

/** Below this many characters no built-in detector can match (`a@b.co`). */
const MIN_BUILTIN_LENGTH = 6;

interface Span {
  start: number;
  end: number;
  detector: string;
}

/**
 * Runs the finders for the enabled detectors over a text and replaces every detected span with the
 * style of the detector that found it. Text without findings is returned as is (no copy).
 * Overlapping spans are merged and masked once, as a whole, in the style of the longest of them —
 * never leaving the tail of a longer span in clear because a shorter one started first.
 */
export class TextScanner {
  private readonly finders: readonly Finder[];
  private readonly wanted: ReadonlySet<string>;
  private readonly minLength: number;

  constructor(
    finders: readonly Finder[],
    private readonly styles: ReadonlyMap<string, StyleFn>,
    customNames: ReadonlySet<string>,
  ) {
    this.wanted = new Set(styles.keys());
    this.finders = finders.filter((f) => f.detects.some((d) => this.wanted.has(d)));
    const anyCustom = [...this.wanted].some((d) => customNames.has(d));
    this.minLength = anyCustom ? 1 : MIN_BUILTIN_LENGTH;
  }

  get empty(): boolean {
    return this.finders.length === 0;
  }

  mask(text: string): string {
    if (text.length < this.minLength || this.finders.length === 0) return text;
    const spans: Span[] = [];
    const emit = (detector: string, start: number, end: number): void => {
      if (end > start) spans.push({ start, end, detector });
    };
    for (const f of this.finders) f.find(text, this.wanted, emit);
    if (spans.length === 0) return text;
    spans.sort((a, b) => a.start - b.start || b.end - a.end);
    let out = '';
    let pos = 0;
    for (let i = 0; i < spans.length; ) {
      const first = spans[i] as Span;
      let end = first.end;
      let longest = first;
      for (i++; i < spans.length && (spans[i] as Span).start < end; i++) {
        const s = spans[i] as Span;
        if (s.end - s.start > longest.end - longest.start) longest = s;
        if (s.end > end) end = s.end;
      }
      const value = text.slice(first.start, end);
      const style = this.styles.get(longest.detector) as StyleFn;
      out += text.slice(pos, first.start) + style(value, normalizeDetected(longest.detector, value));
      pos = end;
    }
    return out + text.slice(pos);
  }
}
