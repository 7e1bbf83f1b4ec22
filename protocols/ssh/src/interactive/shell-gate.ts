import type { LineTracker, SubmittedLine } from './line-tracker.js';

export type LineVerdict =
  | { readonly allow: true }
  /** `silent`: the judgment was cancelled (Ctrl-C, channel closed); nothing is printed. */
  | { readonly allow: false; readonly message: string; readonly silent?: boolean };

export interface ShellGateIo {
  /**
   * Bytes for the upstream shell: what was typed (`input`), the byte that submits an allowed line
   * (`submit`), or the gateway's own erase-line keys (`kill`).
   */
  forward(bytes: Buffer, kind: 'input' | 'submit' | 'kill'): void;
  /**
   * Tells the person at the client why a line was refused. May return a promise: input stays held
   * until it resolves, so that what follows appears after the notice.
   */
  notify(text: string): void | Promise<void>;
  /** Judges one submitted line; `signal` aborts when the person presses Ctrl-C or the channel goes. */
  judge(line: SubmittedLine, signal: AbortSignal): Promise<LineVerdict>;
  /** Asked to stop (true) or resume (false) reading the client while a judgment holds input back. */
  backpressure?(paused: boolean): void;
}

export interface ShellGateOptions {
  /**
   * `terminal`: keys are forwarded as typed (the shell echoes them) and only the Enter is held; a
   * refused line is erased from the shell's line editor. `raw`: a line is forwarded only once it
   * is allowed, since a shell reading a pipe has no line editor to erase it from.
   */
  readonly mode: 'terminal' | 'raw';
  /** Bytes the upstream line editor takes as "go to end of line, erase the line". */
  readonly killLine?: Buffer;
  /** Held-back input above which the client is asked to stop sending. */
  readonly maxBacklog?: number;
  /** Raw mode: a line longer than this (in bytes) is not buffered; it is refused when submitted. */
  readonly maxLineBytes?: number;
}

/** Ctrl-E (end of line), Ctrl-U (discard the line): readline in emacs mode and the tty's VKILL. */
export const DEFAULT_KILL_LINE = Buffer.from([0x05, 0x15]);
const CTRL_C = 0x03;

/**
 * Sits between the client's input and the upstream shell: every submitted line is judged before
 * the byte that submits it is forwarded. Input that arrives while a line is being judged is held
 * back, in order, and processed once the judgment is in.
 */
export class ShellGate {
  readonly #tracker: LineTracker;
  readonly #io: ShellGateIo;
  readonly #mode: 'terminal' | 'raw';
  readonly #killLine: Buffer;
  readonly #maxBacklog: number;
  readonly #maxLineBytes: number;
  readonly #queue: Buffer[] = [];
  #offset = 0;
  #backlog = 0;
  #paused = false;
  #holding: AbortController | undefined;
  #closed = false;
  #ended: (() => void) | undefined;
  /** Raw mode: the bytes of the line being typed, forwarded once it is allowed. */
  #line: Buffer[] = [];
  #lineBytes = 0;
  #lineOverflow = false;

  constructor(tracker: LineTracker, io: ShellGateIo, options: ShellGateOptions) {
    this.#tracker = tracker;
    this.#io = io;
    this.#mode = options.mode;
    this.#killLine = options.killLine ?? DEFAULT_KILL_LINE;
    this.#maxBacklog = options.maxBacklog ?? 1024 * 1024;
    this.#maxLineBytes = options.maxLineBytes ?? 256 * 1024;
  }

  /** True while a line is being judged. */
  get holding(): boolean {
    return this.#holding !== undefined;
  }

  push(chunk: Buffer): void {
    if (this.#closed || chunk.length === 0) return;
    this.#queue.push(chunk);
    this.#backlog += chunk.length;
    // Ctrl-C while a line waits (for an approver, say) cancels the wait; the ^C itself then
    // reaches the shell in order, which abandons the line on its own.
    if (this.#holding !== undefined && this.#mode === 'terminal' && chunk.includes(CTRL_C)) {
      this.#holding.abort();
    }
    this.#pump();
  }

  /**
   * The client sent EOF. Resolves once everything before it was judged and forwarded. In raw mode a
   * last line without a newline is judged too (a shell runs it at end of input); in terminal mode
   * an unsubmitted line is erased so that it cannot run.
   */
  end(): Promise<void> {
    return new Promise((resolve) => {
      this.#ended = resolve;
      this.#pump();
    });
  }

  /** The channel is gone: cancel a pending judgment and drop held input. */
  close(): void {
    this.#closed = true;
    this.#holding?.abort();
    this.#queue.length = 0;
    this.#line = [];
  }

  #pump(): void {
    while (!this.#closed && this.#holding === undefined && this.#queue.length > 0) {
      const chunk = this.#queue[0] as Buffer;
      const start = this.#offset;
      const { end, line } = this.#tracker.feed(chunk, start);
      const before = chunk.subarray(start, line === undefined ? end : end - 1);
      if (end >= chunk.length) {
        this.#queue.shift();
        this.#offset = 0;
      } else {
        this.#offset = end;
      }
      this.#backlog -= end - start;
      this.#pass(before);
      if (line !== undefined) this.#submit(line, chunk.subarray(end - 1, end));
    }
    this.#updateBackpressure();
    if (
      this.#ended !== undefined &&
      this.#holding === undefined &&
      this.#queue.length === 0 &&
      !this.#closed
    ) {
      this.#finishInput();
    }
  }

  #pass(bytes: Buffer): void {
    if (bytes.length === 0) return;
    if (this.#mode === 'terminal') {
      this.#io.forward(bytes, 'input');
      return;
    }
    if (this.#lineOverflow) return;
    this.#lineBytes += bytes.length;
    if (this.#lineBytes > this.#maxLineBytes) {
      this.#lineOverflow = true;
      this.#line = [];
      return;
    }
    this.#line.push(bytes);
  }

  #submit(line: SubmittedLine, enter: Buffer): void {
    const overflow = this.#lineOverflow;
    const held = this.#line;
    this.#line = [];
    this.#lineBytes = 0;
    this.#lineOverflow = false;
    if (line.text.trim() === '' && !line.approximate && !line.truncated && !overflow) {
      this.#release(held, enter);
      return;
    }
    const judged: SubmittedLine = overflow && !line.truncated ? { ...line, truncated: true } : line;
    const abort = new AbortController();
    this.#holding = abort;
    this.#io
      .judge(judged, abort.signal)
      .catch((err: unknown): LineVerdict => ({ allow: false, message: (err as Error)?.message ?? 'error' }))
      .then(async (verdict) => {
        if (this.#closed) return;
        if (verdict.allow) this.#release(held, enter);
        else await this.#refuse(verdict);
      })
      .catch(() => {})
      .finally(() => {
        this.#holding = undefined;
        this.#pump();
      });
  }

  #release(held: Buffer[], enter: Buffer): void {
    if (this.#mode === 'raw') {
      for (const part of held) this.#io.forward(part, 'input');
    }
    if (enter.length > 0) this.#io.forward(enter, 'submit');
  }

  async #refuse(verdict: { message: string; silent?: boolean }): Promise<void> {
    if (verdict.silent === true) return;
    if (this.#mode === 'terminal') this.#io.forward(this.#killLine, 'kill');
    await this.#io.notify(verdict.message);
  }

  #finishInput(): void {
    const done = this.#ended;
    this.#ended = undefined;
    const pending = this.#tracker.pending;
    if (this.#mode === 'terminal') {
      if (pending !== '') this.#io.forward(this.#killLine, 'kill');
      done?.();
      return;
    }
    if (pending === '' && !this.#lineOverflow) {
      done?.();
      return;
    }
    // A shell runs a last line that has no newline: judge it like any other, submitted by EOF.
    const { line } = this.#tracker.feed(Buffer.from('\n'));
    if (line === undefined) {
      done?.();
      return;
    }
    this.#ended = done;
    this.#submit(line, Buffer.alloc(0));
    if (this.#holding === undefined) {
      this.#ended = undefined;
      done?.();
    }
  }

  #updateBackpressure(): void {
    const high = this.#backlog > this.#maxBacklog;
    if (high !== this.#paused) {
      this.#paused = high;
      this.#io.backpressure?.(high);
    }
  }
}
