/**
 * Filters recorded terminal output before it reaches the viewer's terminal. A recording holds what
 * the upstream host printed; some escape sequences act on the terminal that shows them rather than
 * on the picture (set the window title, write the clipboard with OSC 52, ask the terminal to report
 * its state or type an answer back, switch on mouse or keyboard reporting). Those are dropped; the
 * picture (colours, cursor movement, erasing, scroll regions, the alternate screen) is kept.
 *
 * The filter is an allow-list: a sequence is only passed on when it is complete and known to be
 * harmless, and it is written back in its 7-bit form (`ESC [`), so the output never holds an
 * unfinished sequence, an OSC/DCS/APC/PM/SOS string or an 8-bit C1 control.
 *
 * Incremental and pure: a sequence split across two writes is carried to the next one; nothing is
 * read from or written to anywhere else.
 */

/** `terminal`: keep what draws the picture; `text`: plain text, only newlines kept as controls. */
export type SanitizeMode = 'terminal' | 'text';

const ESC = 0x1b;
const BEL = 0x07;
const CAN = 0x18;
const SUB = 0x1a;
const DEL = 0x7f;
const C1_DCS = 0x90;
const C1_SOS = 0x98;
const C1_CSI = 0x9b;
const C1_ST = 0x9c;
const C1_OSC = 0x9d;
const C1_PM = 0x9e;
const C1_APC = 0x9f;

/** Longest CSI kept (parameters and intermediates); longer ones are dropped whole. */
const MAX_CSI = 64;

/** Controls kept as they are in `terminal` mode: BS, TAB, LF, CR. */
const TERMINAL_CONTROLS: ReadonlySet<number> = new Set([0x08, 0x09, 0x0a, 0x0d]);
const TEXT_CONTROLS: ReadonlySet<number> = new Set([0x0a]);

/** ESC + final kept: DECSC, DECRC, IND, NEL, RI. */
const ESC_FINALS = '78DEM';
/** ESC + intermediate + final kept: G0–G3 character set designation (line drawing). */
const ESC_CHARSET = '()*+';

/**
 * CSI finals kept without a private prefix or intermediates: cursor movement and position (A–H,
 * a, d, e, f, `, I, Z), erase and edit (J, K, L, M, P, @, X, b), scrolling (S, T, r), tab clear (g),
 * SGR (m), save/restore cursor (s, u). `h`/`l` (modes) are filtered by parameter.
 */
const CSI_FINALS = '@ABCDEFGHIJKLMPSTXZ`abdefgmrsu';
/** ANSI modes kept: IRM (insert). */
const ANSI_MODES: ReadonlySet<string> = new Set(['4']);
/**
 * DEC private modes kept: reverse video, origin, autowrap, cursor blink and visibility, the
 * alternate screen, synchronized output. Mouse, focus and paste reporting and key modes are not.
 */
const DEC_MODES: ReadonlySet<string> = new Set([
  '5',
  '6',
  '7',
  '12',
  '25',
  '47',
  '1047',
  '1048',
  '1049',
  '2026',
]);

const State = {
  Ground: 0,
  Escape: 1,
  EscapeIntermediate: 2,
  Csi: 3,
  /** Inside an OSC/DCS/APC/PM/SOS string: everything is dropped up to its terminator. */
  Str: 4,
  /** ESC seen inside a string: `\` ends it (ST), anything else starts a new escape. */
  StrEscape: 5,
} as const;
type State = (typeof State)[keyof typeof State];

export class TerminalSanitizer {
  private state: State = State.Ground;
  /** The sequence being collected: ESC intermediates, or CSI parameters and intermediates. */
  private buf = '';
  /** The string is an OSC, which BEL also ends. */
  private osc = false;
  /** The CSI is malformed or too long: dropped when it ends. */
  private bad = false;

  constructor(readonly mode: SanitizeMode = 'terminal') {}

  /** The sanitized text of `chunk`; a sequence it leaves unfinished is held for the next write. */
  write(chunk: string): string {
    let out = '';
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      out += this.step(c, chunk[i] as string);
    }
    return out;
  }

  /** Ends the stream: an unfinished sequence is dropped. */
  end(): string {
    this.reset();
    return '';
  }

  private reset(): void {
    this.state = State.Ground;
    this.buf = '';
    this.osc = false;
    this.bad = false;
  }

  private startString(osc: boolean): void {
    this.reset();
    this.state = State.Str;
    this.osc = osc;
  }

  private startCsi(): void {
    this.reset();
    this.state = State.Csi;
  }

  private step(c: number, ch: string): string {
    switch (this.state) {
      case State.Ground:
        return this.ground(c, ch);
      case State.Escape:
        return this.escape(c, ch);
      case State.EscapeIntermediate:
        return this.escapeIntermediate(c, ch);
      case State.Csi:
        return this.csi(c, ch);
      case State.Str:
        if ((c === BEL && this.osc) || c === C1_ST || c === CAN || c === SUB) this.reset();
        else if (c === ESC) this.state = State.StrEscape;
        return '';
      case State.StrEscape:
        this.reset();
        // ST ends the string; any other ESC starts a new sequence, as terminals do.
        if (c === 0x5c) return '';
        this.state = State.Escape;
        return this.escape(c, ch);
    }
  }

  private ground(c: number, ch: string): string {
    if (c === ESC) {
      this.reset();
      this.state = State.Escape;
      return '';
    }
    if (c === C1_CSI) {
      this.startCsi();
      return '';
    }
    if (c === C1_OSC) {
      this.startString(true);
      return '';
    }
    if (c === C1_DCS || c === C1_SOS || c === C1_PM || c === C1_APC) {
      this.startString(false);
      return '';
    }
    if (c < 0x20) {
      const keep = this.mode === 'terminal' ? TERMINAL_CONTROLS : TEXT_CONTROLS;
      return keep.has(c) ? ch : '';
    }
    if (c >= DEL && c <= 0x9f) return '';
    return ch;
  }

  private escape(c: number, ch: string): string {
    if (c === 0x5b) {
      this.startCsi();
      return '';
    }
    if (c === 0x5d) {
      this.startString(true);
      return '';
    }
    // DCS, SOS, PM, APC.
    if (c === 0x50 || c === 0x58 || c === 0x5e || c === 0x5f) {
      this.startString(false);
      return '';
    }
    if (c === ESC) return '';
    if (c >= 0x20 && c <= 0x2f) {
      this.state = State.EscapeIntermediate;
      this.buf = ch;
      return '';
    }
    this.reset();
    if (c >= 0x30 && c <= 0x7e) {
      return this.mode === 'terminal' && ESC_FINALS.includes(ch) ? `\u001b${ch}` : '';
    }
    // CAN and SUB cancel; other controls and characters end the sequence and count as text.
    if (c === CAN || c === SUB) return '';
    return this.ground(c, ch);
  }

  private escapeIntermediate(c: number, ch: string): string {
    if (c >= 0x20 && c <= 0x2f) {
      if (this.buf.length < MAX_CSI) this.buf += ch;
      else this.bad = true;
      return '';
    }
    const seq = this.buf;
    const bad = this.bad;
    this.reset();
    if (c >= 0x30 && c <= 0x7e) {
      const keep = this.mode === 'terminal' && !bad && seq.length === 1 && ESC_CHARSET.includes(seq);
      return keep ? `\u001b${seq}${ch}` : '';
    }
    if (c === CAN || c === SUB) return '';
    return this.ground(c, ch);
  }

  private csi(c: number, ch: string): string {
    if (c >= 0x20 && c <= 0x3f) {
      // Parameter bytes (0x30–0x3F) after an intermediate (0x20–0x2F) make the sequence malformed.
      if (c >= 0x30 && /[\u0020-\u002f]/.test(this.buf)) this.bad = true;
      if (this.buf.length < MAX_CSI) this.buf += ch;
      else this.bad = true;
      return '';
    }
    const body = this.buf;
    const bad = this.bad;
    this.reset();
    if (c >= 0x40 && c <= 0x7e) return bad || this.mode !== 'terminal' ? '' : keptCsi(body, ch);
    // ESC restarts, CAN/SUB cancel, anything else ends the sequence and is taken as it stands.
    if (c === CAN || c === SUB) return '';
    return this.ground(c, ch);
  }
}

/** The CSI to write for `ESC [ body final`, or '' to drop it. */
function keptCsi(body: string, final: string): string {
  const m = /^([<=>?]?)([0-9:;]*)([\u0020-\u002f]*)$/.exec(body);
  if (m === null) return '';
  const [, prefix, params, inter] = m as unknown as [string, string, string, string];
  if (prefix === '' && inter === '') {
    if (CSI_FINALS.includes(final)) return `\u001b[${params}${final}`;
    if (final === 'h' || final === 'l') return modes('', params, ANSI_MODES, final);
    return '';
  }
  if (prefix === '?' && inter === '') {
    if (final === 'J' || final === 'K') return `\u001b[?${params}${final}`;
    if (final === 'h' || final === 'l') return modes('?', params, DEC_MODES, final);
    return '';
  }
  // DECSCUSR: cursor shape.
  if (prefix === '' && inter === ' ' && final === 'q') return `\u001b[${params} q`;
  return '';
}

function modes(prefix: string, params: string, allowed: ReadonlySet<string>, final: string): string {
  const kept = params.split(';').filter((p) => allowed.has(p));
  return kept.length === 0 ? '' : `\u001b[${prefix}${kept.join(';')}${final}`;
}

/** `text` sanitized in one go. */
export function sanitizeTerminal(text: string, mode: SanitizeMode = 'terminal'): string {
  const s = new TerminalSanitizer(mode);
  return s.write(text) + s.end();
}
