import { ErrorCode, GatewayError, ProtocolError } from '@gatehouse/core';
import { BackendCode } from './codes.js';

/** A column value as encodeDataRow takes it: bytes, text (sent as UTF-8) or SQL NULL. */
export type DataRowValue = Uint8Array | string | null;

/** Strings up to this length are checked for ASCII and copied byte by byte, cheaper than Buffer.write. */
const SHORT = 64;

function shortAscii(v: string): boolean {
  if (v.length > SHORT) return false;
  for (let i = 0; i < v.length; i++) if (v.charCodeAt(i) >= 0x80) return false;
  return true;
}

/** Builds a DataRow with one exact-size allocation: this is the per-row hot path of a relay. */
export function encodeDataRow(values: readonly DataRowValue[]): Buffer {
  if (values.length > 0xffff) {
    throw new GatewayError(ErrorCode.Internal, `DataRow: ${values.length} columns exceed 65535`);
  }
  let size = 7;
  for (const v of values) {
    size += 4;
    if (v === null) continue;
    if (typeof v !== 'string') size += v.length;
    else size += shortAscii(v) ? v.length : Buffer.byteLength(v);
  }
  const out = Buffer.allocUnsafe(size);
  out[0] = BackendCode.DataRow;
  out.writeInt32BE(size - 1, 1);
  out.writeUInt16BE(values.length, 5);
  let pos = 7;
  for (const v of values) {
    if (v === null) {
      pos = out.writeInt32BE(-1, pos);
    } else if (typeof v !== 'string') {
      out.writeInt32BE(v.length, pos);
      out.set(v, pos + 4);
      pos += 4 + v.length;
    } else if (shortAscii(v)) {
      out.writeInt32BE(v.length, pos);
      pos += 4;
      for (let i = 0; i < v.length; i++) out[pos++] = v.charCodeAt(i);
    } else {
      const n = out.write(v, pos + 4, 'utf8');
      out.writeInt32BE(n, pos);
      pos += 4 + n;
    }
  }
  return out;
}

/**
 * The column values of one complete DataRow message (type byte and length included), as views into
 * `raw`. The bytes come from the upstream server; anything inconsistent is a ProtocolError.
 */
export function readDataRow(raw: Buffer): (Buffer | null)[] {
  if (raw.length < 7 || raw[0] !== BackendCode.DataRow) fail('not a DataRow message');
  const len = raw.readInt32BE(1);
  if (len !== raw.length - 1) fail(`length word says ${len} but the message holds ${raw.length - 1}`);
  const count = raw.readUInt16BE(5);
  if (count * 4 > raw.length - 7) fail(`${count} columns cannot fit in ${raw.length} bytes`);
  const values = new Array<Buffer | null>(count);
  let pos = 7;
  for (let i = 0; i < count; i++) {
    if (pos + 4 > raw.length) fail(`column ${i + 1} length runs past the end of the message`);
    const n = raw.readInt32BE(pos);
    pos += 4;
    if (n === -1) {
      values[i] = null;
      continue;
    }
    if (n < 0 || n > raw.length - pos) fail(`column ${i + 1} declares ${n} bytes, ${raw.length - pos} left`);
    values[i] = raw.subarray(pos, pos + n);
    pos += n;
  }
  if (pos !== raw.length) fail(`${raw.length - pos} unexpected bytes after the last column`);
  return values;
}

/**
 * What a rewrite callback returns for a column: a replacement, or `undefined` to keep the value.
 * Returning the same buffer, or equal bytes, also keeps it.
 */
export type DataRowRewrite = (value: Buffer | null, column: number) => DataRowValue | undefined;

/**
 * Applies `rewrite` to every column of a raw DataRow. When nothing changes the original buffer is
 * returned as-is (a relay then forwards it untouched); otherwise a new message is built with every
 * length prefix recomputed.
 */
export function rewriteDataRow(raw: Buffer, rewrite: DataRowRewrite): Buffer {
  const values = readDataRow(raw);
  let out: DataRowValue[] | undefined;
  for (let i = 0; i < values.length; i++) {
    const before = values[i]!;
    const after = rewrite(before, i);
    if (after === undefined || after === before || !differs(before, after)) continue;
    out ??= values.slice();
    out[i] = after;
  }
  return out === undefined ? raw : encodeDataRow(out);
}

function differs(before: Buffer | null, after: DataRowValue): boolean {
  if (before === null || after === null) return before !== after;
  if (typeof after === 'string') {
    // Cheap length test first: most rewrites (masks) change the length or the first bytes.
    if (Buffer.byteLength(after) !== before.length) return true;
    return !before.equals(Buffer.from(after));
  }
  return after.length !== before.length || !before.equals(after);
}

function fail(problem: string): never {
  throw new ProtocolError(`DataRow: ${problem}`, { details: { message: 'DataRow' } });
}
