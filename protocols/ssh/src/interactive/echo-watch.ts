/**
 * Tells whether the upstream terminal echoed what was typed on the current line. A line typed
 * while echo is off (a password prompt: sudo, su, ssh, `read -s`) produces no output, and its text
 * must not be written to the log in clear.
 *
 * Echo is inferred from timing: any upstream output after the line's first forwarded key counts as
 * echo. When the Enter arrives before any output (input pasted or scripted in one go), the watch
 * waits briefly for it.
 */
export class EchoWatch {
  #outputs = 0;
  #mark: number | undefined;
  readonly #waiters = new Set<() => void>();

  /** Bytes of the current line were forwarded to the upstream. */
  typed(bytes: number): void {
    if (bytes > 0 && this.#mark === undefined) this.#mark = this.#outputs;
  }

  /** The upstream wrote to the terminal. */
  output(): void {
    this.#outputs++;
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
  }

  /** Resolves true at the next output, or false after `waitMs`. */
  nextOutput(waitMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(wake);
        resolve(false);
      }, waitMs);
      timer.unref?.();
      this.#waiters.add(wake);
    });
  }

  /** Ends the current line; resolves false when nothing was shown since its first key. */
  lineEchoed(waitMs: number): Promise<boolean> {
    const mark = this.#mark;
    this.#mark = undefined;
    if (mark === undefined || this.#outputs > mark) return Promise.resolve(true);
    return this.nextOutput(waitMs);
  }
}
