import { ProtocolError } from '@gatehouse/core';

/**
 * The data direction of the legacy scp (rcp) protocol, from the side that sends files (the source)
 * to the side that writes them (the sink). Pure: bytes in, items out.
 *
 * - `C<mode> <size> <name>\n`: a file follows; once the sink acknowledges, `size` bytes of content
 *   and one status byte (`\0`, or `\1`/`\2` and a message line when reading failed).
 * - `D<mode> 0 <name>\n` … `E\n`: a directory and its end (recursive copies).
 * - `T<mtime> 0 <atime> 0\n`: times for the next entry (`-p`).
 * - `\1<message>\n`, `\2<message>\n`: an error the source reports (`\2` is fatal).
 *
 * The other direction holds one-byte acknowledgements (`\0`, or `\1`/`\2` with a message) and is
 * not decoded. Content only follows a file record the sink accepted, so after each `file` record
 * the reader waits for `decide()`: the gateway may refuse the file, and then no content comes.
 */

export type ScpRecord =
  | { readonly type: 'file'; readonly mode: string; readonly size: number; readonly name: string }
  | { readonly type: 'directory'; readonly mode: string; readonly name: string }
  | { readonly type: 'end-directory' }
  | { readonly type: 'times' }
  | { readonly type: 'error'; readonly fatal: boolean; readonly message: string };

export type ScpItem =
  | { readonly kind: 'record'; readonly record: ScpRecord; readonly raw: Buffer }
  | { readonly kind: 'data'; readonly bytes: Buffer }
  /** The status byte (and message) after a file's content. */
  | { readonly kind: 'file-end'; readonly ok: boolean; readonly raw: Buffer };

/** Longest record line: a name can be PATH_MAX (4096) bytes. */
export const MAX_SCP_LINE = 8192;

const FILE = /^([CD])([0-7]{4}) (\d{1,16}) (.+)$/s;
const TIMES = /^T\d{1,20} \d{1,9} \d{1,20} \d{1,9}$/;

/** The names that OpenSSH's sink itself refuses ("unexpected filename"). */
function checkName(name: string): void {
  if (name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new ProtocolError(`scp: unexpected file name ${JSON.stringify(name.slice(0, 100))}`);
  }
}

export function parseScpRecord(line: Buffer): ScpRecord {
  const first = line[0];
  if (first === 1 || first === 2) {
    return { type: 'error', fatal: first === 2, message: line.subarray(1).toString('utf8') };
  }
  const text = line.toString('utf8');
  if (text === 'E') return { type: 'end-directory' };
  if (TIMES.test(text)) return { type: 'times' };
  const m = FILE.exec(text);
  if (m === null) throw new ProtocolError(`scp: unexpected record ${JSON.stringify(text.slice(0, 100))}`);
  const [, type, mode, size, name] = m as unknown as [string, string, string, string, string];
  if (Buffer.byteLength(name) !== line.length - 1 - 4 - 1 - size.length - 1) {
    throw new ProtocolError('scp: a file name that is not UTF-8');
  }
  checkName(name);
  const bytes = Number(size);
  if (!Number.isSafeInteger(bytes)) throw new ProtocolError('scp: file size out of range');
  if (type === 'D') return { type: 'directory', mode, name };
  return { type: 'file', mode, size: bytes, name };
}

type State =
  | { readonly at: 'record' }
  | { readonly at: 'decide'; readonly size: number }
  | { at: 'data'; remaining: number }
  | { readonly at: 'status' };

export class ScpStreamReader {
  #buf: Buffer = Buffer.alloc(0);
  #offset = 0;
  #state: State = { at: 'record' };

  push(chunk: Buffer): void {
    if (this.#offset >= this.#buf.length) {
      this.#buf = chunk;
    } else {
      this.#buf = Buffer.concat([this.#buf.subarray(this.#offset), chunk]);
    }
    this.#offset = 0;
  }

  /** True while a file record waits for `decide()`. */
  get deciding(): boolean {
    return this.#state.at === 'decide';
  }

  /** After a `file` record: true, its content follows; false, the sink refused it and none will. */
  decide(accepted: boolean): void {
    const state = this.#state;
    if (state.at !== 'decide') throw new Error('no file record is waiting for a decision');
    this.#state = accepted ? this.#afterHeader(state.size) : { at: 'record' };
  }

  /** The next item, or undefined until more bytes arrive (or while a file waits for `decide()`). */
  next(): ScpItem | undefined {
    const state = this.#state;
    const available = this.#buf.length - this.#offset;
    switch (state.at) {
      case 'decide':
        return undefined;
      case 'data': {
        if (available === 0) return undefined;
        const take = Math.min(available, state.remaining);
        const bytes = this.#buf.subarray(this.#offset, this.#offset + take);
        this.#offset += take;
        state.remaining -= take;
        if (state.remaining === 0) this.#state = { at: 'status' };
        return { kind: 'data', bytes };
      }
      case 'status': {
        if (available === 0) return undefined;
        if (this.#buf[this.#offset] === 0) {
          const raw = this.#buf.subarray(this.#offset, this.#offset + 1);
          this.#offset += 1;
          this.#state = { at: 'record' };
          return { kind: 'file-end', ok: true, raw };
        }
        const raw = this.#line();
        if (raw === undefined) return undefined;
        this.#state = { at: 'record' };
        return { kind: 'file-end', ok: false, raw };
      }
      case 'record': {
        const raw = this.#line();
        if (raw === undefined) return undefined;
        const record = parseScpRecord(raw.subarray(0, raw.length - 1));
        if (record.type === 'file') this.#state = { at: 'decide', size: record.size };
        return { kind: 'record', record, raw };
      }
    }
  }

  #afterHeader(size: number): State {
    return size === 0 ? { at: 'status' } : { at: 'data', remaining: size };
  }

  /** A whole line, newline included, or undefined when it has not all arrived. */
  #line(): Buffer | undefined {
    const end = this.#buf.indexOf(0x0a, this.#offset);
    if (end < 0) {
      if (this.#buf.length - this.#offset > MAX_SCP_LINE) {
        throw new ProtocolError(`scp: a record longer than ${MAX_SCP_LINE} bytes`);
      }
      return undefined;
    }
    if (end - this.#offset > MAX_SCP_LINE)
      throw new ProtocolError(`scp: a record longer than ${MAX_SCP_LINE} bytes`);
    const raw = this.#buf.subarray(this.#offset, end + 1);
    this.#offset = end + 1;
    return raw;
  }
}
