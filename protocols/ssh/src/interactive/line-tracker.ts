/**
 * Reconstructs the command lines a person submits to an interactive shell from the bytes their
 * terminal sends, so that each line can be judged before its Enter reaches the upstream shell.
 *
 * Pure: bytes in, submitted lines out. The tracker models a shell's line editor only as far as it
 * can be known from the input alone — printable text, backspace/DEL, Ctrl-U, Ctrl-W, Ctrl-C and
 * bracketed paste. Everything that makes the upstream's buffer differ from what was typed (cursor
 * movement, history, completion, yanking, vi commands) is not replayed: the line is then marked
 * approximate with the reasons, and judged as typed.
 *
 * A submit byte (CR or LF) always ends the line, whatever state an escape sequence was in: an
 * Enter must never be swallowed, or a line would reach the shell unjudged.
 */

export type TrackerMode =
  /** A pty: the client's terminal sends keys (Enter is CR, editing keys are control bytes). */
  | 'terminal'
  /** No pty: the input is a script, one command line per LF, every other byte literal. */
  | 'raw';

export interface LineTrackerOptions {
  readonly mode: TrackerMode;
  /** Longer lines are cut and reported as truncated (the gate refuses them). Default 64 KiB. */
  readonly maxLineChars?: number;
}

/** Why a reconstructed line may differ from what the shell will run. */
export type ApproximateReason =
  | 'cursor-movement'
  | 'history'
  | 'completion'
  | 'editing-key'
  | 'escape-sequence'
  | 'literal-next'
  | 'control-character';

export interface SubmittedLine {
  /** The line as reconstructed (without the submit byte). */
  readonly text: string;
  /** True when the shell's buffer may differ from `text`. */
  readonly approximate: boolean;
  readonly reasons: readonly ApproximateReason[];
  /** Submitted by a newline inside a bracketed paste. */
  readonly pasted: boolean;
  /** The line exceeded the limit; `text` holds its beginning only. */
  readonly truncated: boolean;
}

export interface FeedResult {
  /** Index just after the last byte consumed; when `line` is set, the submit byte is at `end - 1`. */
  readonly end: number;
  readonly line?: SubmittedLine;
}

export const DEFAULT_MAX_LINE_CHARS = 64 * 1024;

const ESC = 0x1b;
const CR = 0x0d;
const LF = 0x0a;
/** Longest CSI parameter string we keep; longer sequences are abandoned (and the line marked). */
const MAX_CSI = 32;

type EscapeState = 'none' | 'esc' | 'csi' | 'ss3';

const CURSOR_CONTROLS = new Set([0x01, 0x02, 0x05, 0x06]); // ^A ^B ^E ^F
const HISTORY_CONTROLS = new Set([0x0e, 0x10, 0x12, 0x13]); // ^N ^P ^R ^S

export class LineTracker {
  readonly #mode: TrackerMode;
  readonly #max: number;
  #decoder = new TextDecoder('utf-8');
  #text = '';
  #reasons = new Set<ApproximateReason>();
  #truncated = false;
  #paste = false;
  #literalNext = false;
  #escape: EscapeState = 'none';
  #csi = '';

  constructor(options: LineTrackerOptions) {
    this.#mode = options.mode;
    this.#max = Math.max(1, options.maxLineChars ?? DEFAULT_MAX_LINE_CHARS);
  }

  /** The line typed so far (for diagnostics and tests). */
  get pending(): string {
    return this.#text;
  }

  /**
   * Consumes bytes from `start` until the end of the chunk or the first submitted line, whichever
   * comes first. Call again from `end` for the rest of the chunk.
   */
  feed(chunk: Uint8Array, start = 0): FeedResult {
    let i = Math.max(0, start);
    while (i < chunk.length) {
      if (this.#mode === 'raw') {
        const lf = chunk.indexOf(LF, i);
        const stop = lf === -1 ? chunk.length : lf;
        this.#append(chunk.subarray(i, stop));
        if (lf === -1) return { end: chunk.length };
        return { end: lf + 1, line: this.#submit(false) };
      }
      const b = chunk[i] as number;
      if (this.#escape !== 'none') {
        if (this.#escapeByte(b)) {
          i++;
          continue;
        }
        // The byte did not belong to the sequence: it is handled on its own below.
      }
      if (this.#literalNext) {
        this.#literalNext = false;
        if (b !== CR && b !== LF) {
          // The shell inserts the byte as is; whatever it is, the line is no longer plain text.
          this.#reasons.add('literal-next');
          i++;
          continue;
        }
      }
      if (b === CR || b === LF) {
        this.#flushDecoder();
        return { end: i + 1, line: this.#submit(this.#paste) };
      }
      if (b >= 0x20 && b !== 0x7f) {
        let j = i + 1;
        while (j < chunk.length) {
          const c = chunk[j] as number;
          if (c < 0x20 || c === 0x7f) break;
          j++;
        }
        this.#append(chunk.subarray(i, j));
        i = j;
        continue;
      }
      this.#flushDecoder();
      this.#control(b);
      i++;
    }
    return { end: chunk.length };
  }

  #control(b: number): void {
    if (b === ESC) {
      this.#escape = 'esc';
      this.#csi = '';
      return;
    }
    if (this.#paste) {
      // Inside a paste the editor inserts control bytes literally; only a tab is plain text.
      if (b === 0x09) this.#appendText('\t');
      else this.#reasons.add('control-character');
      return;
    }
    switch (b) {
      case 0x7f:
      case 0x08:
        this.#backspace();
        return;
      case 0x15: // ^U: unix-line-discard
        this.#text = '';
        return;
      case 0x17: // ^W: unix-word-rubout
        this.#text = this.#text.replace(/\S*\s*$/u, '');
        return;
      case 0x03: // ^C: the editor abandons the line
        this.#text = '';
        this.#reasons.clear();
        this.#truncated = false;
        return;
      case 0x09:
        this.#reasons.add('completion');
        return;
      case 0x16: // ^V: quoted insert
        this.#literalNext = true;
        return;
      case 0x0c: // ^L: redraw
      case 0x04: // ^D: end of input on an empty line, delete-char at the end of a line
      case 0x00:
        return;
      default:
        if (CURSOR_CONTROLS.has(b)) this.#reasons.add('cursor-movement');
        else if (HISTORY_CONTROLS.has(b)) this.#reasons.add('history');
        else this.#reasons.add('editing-key');
    }
  }

  /** Returns false when the byte does not continue the escape sequence (the sequence is dropped). */
  #escapeByte(b: number): boolean {
    const abandon = (): boolean => {
      this.#escape = 'none';
      this.#reasons.add('escape-sequence');
      return false;
    };
    if (this.#escape === 'esc') {
      if (b === 0x5b) {
        this.#escape = 'csi';
        return true;
      }
      if (b === 0x4f) {
        this.#escape = 'ss3';
        return true;
      }
      if (b < 0x20 || b === 0x7f) return abandon();
      // Meta-<key>: word motion, word deletion, yank-last-arg, vi command mode…
      this.#escape = 'none';
      if (!this.#paste) this.#reasons.add('editing-key');
      else this.#reasons.add('escape-sequence');
      return true;
    }
    if (this.#escape === 'ss3') {
      if (b < 0x40 || b > 0x7e) return abandon();
      this.#escape = 'none';
      this.#key(String.fromCharCode(b), '');
      return true;
    }
    // CSI: parameters 0x30–0x3F, intermediates 0x20–0x2F, final 0x40–0x7E.
    if (b >= 0x20 && b <= 0x3f) {
      if (this.#csi.length >= MAX_CSI) return abandon();
      this.#csi += String.fromCharCode(b);
      return true;
    }
    if (b >= 0x40 && b <= 0x7e) {
      this.#escape = 'none';
      this.#key(String.fromCharCode(b), this.#csi);
      return true;
    }
    return abandon();
  }

  #key(final: string, params: string): void {
    if (final === '~' && params === '200') {
      this.#paste = true;
      return;
    }
    if (final === '~' && params === '201') {
      this.#paste = false;
      return;
    }
    if (this.#paste) {
      this.#reasons.add('escape-sequence');
      return;
    }
    if (final === 'A' || final === 'B' || (final === '~' && (params === '5' || params === '6'))) {
      this.#reasons.add('history');
    } else if ('CDHF'.includes(final) || (final === '~' && ['1', '4', '7', '8'].includes(params))) {
      this.#reasons.add('cursor-movement');
    } else if (final === '~' && (params === '2' || params === '3')) {
      this.#reasons.add('editing-key');
    } else if (final === 'I' || final === 'O') {
      // Focus in/out reports change nothing in the line.
    } else {
      this.#reasons.add('escape-sequence');
    }
  }

  #backspace(): void {
    const chars = Array.from(this.#text);
    chars.pop();
    this.#text = chars.join('');
  }

  #append(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#appendText(this.#decoder.decode(bytes, { stream: true }));
  }

  #appendText(text: string): void {
    if (this.#truncated || text === '') return;
    const room = this.#max - this.#text.length;
    if (text.length > room) {
      this.#text += text.slice(0, Math.max(0, room));
      this.#truncated = true;
      return;
    }
    this.#text += text;
  }

  #flushDecoder(): void {
    const rest = this.#decoder.decode();
    if (rest !== '') this.#appendText(rest);
  }

  #submit(pasted: boolean): SubmittedLine {
    this.#flushDecoder();
    const reasons = [...this.#reasons].sort();
    const line: SubmittedLine = {
      text: this.#text,
      approximate: reasons.length > 0,
      reasons,
      pasted,
      truncated: this.#truncated,
    };
    this.#text = '';
    this.#reasons = new Set();
    this.#truncated = false;
    this.#decoder = new TextDecoder('utf-8');
    return line;
  }
}

/** Feeds every chunk in order and returns every submitted line (tests and offline analysis). */
export function trackLines(chunks: readonly Uint8Array[], options: LineTrackerOptions): SubmittedLine[] {
  const tracker = new LineTracker(options);
  const lines: SubmittedLine[] = [];
  for (const chunk of chunks) {
    let start = 0;
    while (start < chunk.length) {
      const { end, line } = tracker.feed(chunk, start);
      if (line !== undefined) lines.push(line);
      start = end;
    }
  }
  return lines;
}
