/**
 * PostgreSQL's binary send formats that can carry text inside: arrays (array_send), records
 * (record_send) and the numeric types, whose digits a detector must see (a card number fits in an
 * int8 or a numeric). Parsers are strict — every length must add up exactly — and answer
 * `undefined` rather than throw: they also serve to recognise values of types made at run time
 * (composites, arrays of enums), where a wrong guess must cost nothing.
 */

/** PostgreSQL's MAXDIM. */
const MAX_DIMENSIONS = 6;
/** MaxTupleAttributeNumber. */
const MAX_RECORD_FIELDS = 1664;

export interface BinaryArray {
  /** ndim, flags, element type, dimensions and lower bounds, as sent. */
  readonly header: Buffer;
  readonly elementType: number;
  readonly elements: (Buffer | null)[];
}

export function parseBinaryArray(buf: Buffer): BinaryArray | undefined {
  if (buf.length < 12) return undefined;
  const ndim = buf.readInt32BE(0);
  const flags = buf.readInt32BE(4);
  if (ndim < 0 || ndim > MAX_DIMENSIONS || (flags !== 0 && flags !== 1)) return undefined;
  const headerEnd = 12 + ndim * 8;
  if (buf.length < headerEnd) return undefined;
  let count = ndim === 0 ? 0 : 1;
  for (let d = 0; d < ndim; d++) {
    const size = buf.readInt32BE(12 + d * 8);
    if (size < 0) return undefined;
    count *= size;
    // Each element takes at least its 4-byte length word.
    if (count > (buf.length - headerEnd) / 4) return undefined;
  }
  const elements = readValues(buf, headerEnd, count);
  if (elements === undefined) return undefined;
  return { header: buf.subarray(0, headerEnd), elementType: buf.readUInt32BE(8), elements };
}

export function encodeBinaryArray(array: BinaryArray, elements: readonly (Uint8Array | null)[]): Buffer {
  let size = array.header.length;
  for (const e of elements) size += 4 + (e?.length ?? 0);
  const out = Buffer.allocUnsafe(size);
  array.header.copy(out, 0);
  // The has-nulls flag must be set when an element became NULL.
  if (elements.some((e) => e === null)) out.writeInt32BE(1, 4);
  writeValues(out, array.header.length, elements);
  return out;
}

export interface BinaryRecordField {
  readonly type: number;
  readonly value: Buffer | null;
}

export function parseBinaryRecord(buf: Buffer): BinaryRecordField[] | undefined {
  if (buf.length < 4) return undefined;
  const count = buf.readInt32BE(0);
  if (count < 0 || count > MAX_RECORD_FIELDS || count * 8 > buf.length - 4) return undefined;
  const fields: BinaryRecordField[] = [];
  let pos = 4;
  for (let i = 0; i < count; i++) {
    if (pos + 8 > buf.length) return undefined;
    const type = buf.readUInt32BE(pos);
    const n = buf.readInt32BE(pos + 4);
    pos += 8;
    if (n === -1) {
      fields.push({ type, value: null });
      continue;
    }
    if (n < 0 || n > buf.length - pos) return undefined;
    fields.push({ type, value: buf.subarray(pos, pos + n) });
    pos += n;
  }
  return pos === buf.length ? fields : undefined;
}

export function encodeBinaryRecord(
  fields: readonly BinaryRecordField[],
  values: readonly (Uint8Array | null)[],
): Buffer {
  let size = 4;
  for (const v of values) size += 8 + (v?.length ?? 0);
  const out = Buffer.allocUnsafe(size);
  out.writeInt32BE(fields.length, 0);
  let pos = 4;
  fields.forEach((f, i) => {
    const v = values[i] ?? null;
    out.writeUInt32BE(f.type, pos);
    pos += 4;
    if (v === null) {
      pos = out.writeInt32BE(-1, pos);
    } else {
      pos = out.writeInt32BE(v.length, pos);
      out.set(v, pos);
      pos += v.length;
    }
  });
  return out;
}

/** `count` length-prefixed values from `pos` that must end exactly at the end of `buf`. */
function readValues(buf: Buffer, pos: number, count: number): (Buffer | null)[] | undefined {
  const values: (Buffer | null)[] = [];
  for (let i = 0; i < count; i++) {
    if (pos + 4 > buf.length) return undefined;
    const n = buf.readInt32BE(pos);
    pos += 4;
    if (n === -1) {
      values.push(null);
      continue;
    }
    if (n < 0 || n > buf.length - pos) return undefined;
    values.push(buf.subarray(pos, pos + n));
    pos += n;
  }
  return pos === buf.length ? values : undefined;
}

function writeValues(out: Buffer, pos: number, values: readonly (Uint8Array | null)[]): void {
  for (const v of values) {
    if (v === null) {
      pos = out.writeInt32BE(-1, pos);
      continue;
    }
    pos = out.writeInt32BE(v.length, pos);
    out.set(v, pos);
    pos += v.length;
  }
}

/** Decimal text of a binary int2/int4/int8, or undefined when the width is wrong. */
export function binaryIntText(buf: Buffer, start: number, end: number): string | undefined {
  const n = end - start;
  if (n === 8) {
    const hi = buf.readInt32BE(start);
    const lo = buf.readUInt32BE(start + 4);
    // Exact as a double below 2^53; past that BigInt renders it.
    if (hi >= -0x200000 && hi < 0x200000) return String(hi * 0x100000000 + lo);
    return buf.readBigInt64BE(start).toString();
  }
  if (n === 4) return String(buf.readInt32BE(start));
  if (n === 2) return String(buf.readInt16BE(start));
  return undefined;
}

/**
 * The decimal text of a binary int2/int4/int8 written as ASCII into `out` (room for 20 bytes),
 * without making a string; returns its length, or -1 when the width is wrong or an int8 is past
 * 2^53 (binaryIntText renders those). Same text as binaryIntText.
 */
export function binaryIntAscii(buf: Buffer, start: number, end: number, out: Uint8Array): number {
  const n = end - start;
  let v: number;
  if (n === 4) v = buf.readInt32BE(start);
  else if (n === 2) v = buf.readInt16BE(start);
  else if (n === 8) {
    const hi = buf.readInt32BE(start);
    if (hi < -0x200000 || hi >= 0x200000) return -1;
    v = hi * 0x100000000 + buf.readUInt32BE(start + 4);
  } else return -1;
  let len = 0;
  if (v < 0) {
    out[len++] = 45;
    v = -v;
  }
  let digits = 1;
  for (let p = 10; p <= v; p *= 10) digits++;
  for (let i = len + digits - 1; i >= len; i--) {
    out[i] = 48 + (v % 10);
    v = Math.floor(v / 10);
  }
  return len + digits;
}

export function binaryFloatText(buf: Buffer, start: number, end: number): string | undefined {
  const n = end - start;
  // Integers below 1e21 print without an exponent, so a card number stored in a float8 shows its digits.
  if (n === 8) return String(buf.readDoubleBE(start));
  if (n === 4) return String(buf.readFloatBE(start));
  return undefined;
}

/** money is int8 cents; rendered without currency symbol or grouping (lc_monetary is the server's). */
export function binaryMoneyText(buf: Buffer, start: number, end: number): string | undefined {
  if (end - start !== 8) return undefined;
  const cents = buf.readBigInt64BE(start);
  const negative = cents < 0n;
  const abs = negative ? -cents : cents;
  const units = (abs / 100n).toString();
  const rest = (abs % 100n).toString().padStart(2, '0');
  return `${negative ? '-' : ''}${units}.${rest}`;
}

const NUMERIC_POS = 0x0000;
const NUMERIC_NEG = 0x4000;
const NUMERIC_NAN = 0xc000;
const NUMERIC_PINF = 0xd000;
const NUMERIC_NINF = 0xf000;
/** NUMERIC_MAX_DISPLAY_SCALE and a sanity bound on the digit count. */
const MAX_SCALE = 1000;
const MAX_DIGITS = 0x4000;

/** numeric_send → the text numeric_out would print, or undefined when malformed. */
export function binaryNumericText(buf: Buffer, start: number, end: number): string | undefined {
  const n = end - start;
  if (n < 8) return undefined;
  const ndigits = buf.readInt16BE(start);
  const weight = buf.readInt16BE(start + 2);
  const sign = buf.readUInt16BE(start + 4);
  const dscale = buf.readInt16BE(start + 6);
  if (ndigits < 0 || ndigits > MAX_DIGITS || n !== 8 + ndigits * 2 || dscale < 0 || dscale > MAX_SCALE)
    return undefined;
  if (sign === NUMERIC_NAN) return 'NaN';
  if (sign === NUMERIC_PINF) return 'Infinity';
  if (sign === NUMERIC_NINF) return '-Infinity';
  if (sign !== NUMERIC_POS && sign !== NUMERIC_NEG) return undefined;
  const digit = (i: number): number => (i >= 0 && i < ndigits ? buf.readInt16BE(start + 8 + i * 2) : 0);
  for (let i = 0; i < ndigits; i++) if (digit(i) < 0 || digit(i) > 9999) return undefined;
  let out = sign === NUMERIC_NEG ? '-' : '';
  if (weight < 0) {
    out += '0';
  } else {
    for (let i = 0; i <= weight; i++) {
      const d = String(digit(i));
      out += i === 0 ? d : d.padStart(4, '0');
    }
  }
  if (dscale > 0) {
    let frac = '';
    for (let i = weight + 1; frac.length < dscale; i++) frac += String(digit(i)).padStart(4, '0');
    out += `.${frac.slice(0, dscale)}`;
  }
  return out;
}
