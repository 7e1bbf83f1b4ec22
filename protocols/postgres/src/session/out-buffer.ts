import type { Socket } from 'node:net';

/**
 * Collects messages bound for one socket and writes them in one go. Consecutive views of the same
 * received chunk are merged back into one view, so a relayed chunk whose messages all pass
 * unchanged is written as the chunk itself: no copy, one write.
 */
export class OutBuffer {
  #parts: Buffer[] = [];

  get empty(): boolean {
    return this.#parts.length === 0;
  }

  push(buf: Buffer): void {
    if (buf.length === 0) return;
    const parts = this.#parts;
    const last = parts[parts.length - 1];
    if (
      last !== undefined &&
      last.buffer === buf.buffer &&
      last.byteOffset + last.length === buf.byteOffset
    ) {
      parts[parts.length - 1] = Buffer.from(last.buffer, last.byteOffset, last.length + buf.length);
    } else parts.push(buf);
  }

  /** Writes what was collected; returns false when the socket asks the writer to wait for 'drain'. */
  flush(socket: Socket): boolean {
    const parts = this.#parts;
    if (parts.length === 0) return true;
    this.#parts = [];
    if (socket.destroyed || !socket.writable) return true;
    if (parts.length === 1) return socket.write(parts[0]!);
    socket.cork();
    let ok = true;
    for (const p of parts) ok = socket.write(p) && ok;
    socket.uncork();
    return ok;
  }
}
