/**
 * Masking of one column value in either result format, by the value's type.
 *
 * Decisions (docs: README.md in this folder):
 * - Text-like values (text, varchar, bpchar, name, unknown, xml, enums and other run-time types
 *   that print as text) are masked as text; JSON field by field (json-masking.ts); arrays and
 *   records element by element, so that the client's parser still reads them.
 * - Numbers (int2/4/8, numeric, float, money) go through the detectors as the digits a client would
 *   print: a 16-digit Luhn-valid int8 is a card number. A masked number cannot be written into a
 *   numeric column's binary form, and `****` in text form breaks typed clients (psycopg, JDBC
 *   getLong), so such a value becomes SQL NULL, which every client reads; the relay reports it
 *   with a notice (RowMasker.finish). `typedValues: 'text'` sends the mask text instead in text
 *   format (psql users); binary format always gets NULL.
 * - Values of types that cannot hide free text (dates, booleans, uuids...) skip the detectors; a
 *   column rule on them yields NULL like numbers.
 * - bytea: the detectors see the bytes as Latin-1 text (printable runs stay readable to them), and
 *   what they mask is replaced in place, so the value stays valid bytea.
 * - Binary values of types we do not know are recognised by shape: printable UTF-8 is text, a
 *   strict parse as record or array means a composite or an array of one; anything else is opaque
 *   and becomes NULL when a rule covers it or a detector finds something in it.
 */
import { isUtf8 } from 'node:buffer';
import type { DataRowValue } from '../wire/index.js';
import {
  binaryFloatText,
  binaryIntAscii,
  binaryIntText,
  binaryMoneyText,
  binaryNumericText,
  encodeBinaryArray,
  encodeBinaryRecord,
  parseBinaryArray,
  parseBinaryRecord,
} from './binary-formats.js';
import { type Cover, type JsonMasking, maskJson } from './json-masking.js';
import type { MaskingPolicyView } from './masking-policy.js';
import {
  decodeByteaText,
  encodeByteaHex,
  rewriteArrayLiteral,
  rewriteRecordLiteral,
} from './text-formats.js';
import { type TypeInfo, typeInfo } from './type-oids.js';

export type { Cover } from './json-masking.js';

/** How one column's values are masked; fixed per column for a whole result. */
export interface ValueMode {
  /** Mask values whole in this cover's style; null: detectors only. */
  readonly cover: Cover | null;
  /**
   * The value derives from whole rows (row_to_json(t), t::text): JSON is masked by its keys,
   * which are the column names, and `cover` applies only to values that are not JSON.
   */
  readonly jsonKeysSuffice: boolean;
  /** JSON key rules and lineage, for JSON values. */
  readonly json: JsonMasking;
  /** JSON values must be scanned for their keys even when no detector could fire. */
  readonly jsonKeys: boolean;
}

export type TypedValues = 'null' | 'text';

/** A replacement value, or undefined to keep the value as it is. */
export type Replacement = DataRowValue | undefined;

interface Decoded {
  readonly text: string;
  /** Not valid UTF-8: decoded and re-encoded as Latin-1, byte for byte. */
  readonly latin1: boolean;
}

export class ValueMasker {
  /** Values replaced by NULL because their type cannot hold a mask. */
  nulled = 0;

  constructor(
    readonly view: MaskingPolicyView,
    private readonly typedValues: TypedValues,
  ) {}

  /** Masks `buf[start, end)`, a value of type `type` in format `format`. */
  mask(buf: Buffer, start: number, end: number, type: number, format: number, mode: ValueMode): Replacement {
    const info = typeInfo(type);
    return format === 1
      ? this.binary(buf, start, end, info, mode)
      : this.textFormat(buf, start, end, info, mode);
  }

  /** A value already in its text form (COPY fields): the replacement text, NULL, or undefined. */
  maskString(text: string, type: number, mode: ValueMode): string | null | undefined {
    return this.textForm(text, typeInfo(type), mode);
  }

  // ---- text format ----

  private textFormat(buf: Buffer, start: number, end: number, info: TypeInfo, mode: ValueMode): Replacement {
    // The common case: nothing covers the value and the prefilter rules the detectors out (bytea
    // prints as hex, so only its decoded bytes can tell).
    if (
      mode.cover === null &&
      !(mode.jsonKeys && mayHoldJson(info)) &&
      !holdsBytea(info) &&
      !this.view.mayDetect(buf, start, end)
    )
      return undefined;
    const d = decode(buf, start, end);
    const out = this.textForm(d.text, info, mode);
    return out === undefined || out === null ? out : encodeOut(out, d.latin1);
  }

  /** A value in its text form; the same dispatch serves array elements and record fields. */
  private textForm(text: string, info: TypeInfo, mode: ValueMode): string | null | undefined {
    switch (info.cls) {
      case 'safe':
        return mode.cover === null ? undefined : this.typed(this.view.maskWhole(mode.cover.column, text));
      case 'int':
      case 'numeric':
      case 'float':
      case 'money':
        return this.number(text, mode);
      case 'json':
        return this.jsonText(text, mode);
      case 'bytea': {
        const bytes = decodeByteaText(text);
        if (bytes === undefined) return this.plainText(text, mode);
        const masked = this.bytes(bytes, mode);
        return masked === undefined ? undefined : encodeByteaHex(masked);
      }
      case 'array': {
        const element = typeInfo(info.element ?? 0);
        const out = rewriteArrayLiteral(text, (e) =>
          e === null ? undefined : this.textForm(e, element, mode),
        );
        if (out === undefined) return this.plainText(text, mode);
        return out === text ? undefined : out;
      }
      case 'record':
        return this.recordText(text, mode);
      default:
        return this.plainText(text, mode);
    }
  }

  private plainText(text: string, mode: ValueMode): string | undefined {
    if (mode.jsonKeysSuffice && looksLikeJson(text)) {
      const json = maskJson(text, mode.json, null);
      if (json !== null) return json === text ? undefined : json;
    }
    if (mode.cover !== null) return changed(text, this.view.maskWhole(mode.cover.column, text));
    if (!this.view.mayDetectText(text)) return undefined;
    return changed(text, this.view.maskText(text));
  }

  private recordText(text: string, mode: ValueMode): string | undefined {
    const field = typeInfo(0);
    const out = rewriteRecordLiteral(text, (f) => (f === null ? undefined : this.textForm(f, field, mode)));
    if (out === undefined) return this.plainText(text, mode);
    return out === text ? undefined : out;
  }

  private jsonText(text: string, mode: ValueMode): string | null | undefined {
    if (mode.cover === null && !mode.jsonKeys && !this.view.mayDetectText(text)) return undefined;
    const out = maskJson(text, mode.json, mode.jsonKeysSuffice ? null : mode.cover);
    if (out !== null) return out === text ? undefined : out;
    // Not JSON after all (it should be): mask as text, which may not parse but hides the value.
    if (mode.cover !== null) return changed(text, this.view.maskWhole(mode.cover.column, text));
    return this.view.mayDetectText(text) ? changed(text, this.view.maskText(text)) : undefined;
  }

  /** Digits of a number: detectors; a mask cannot be a number, so NULL (or the mask text). */
  private number(text: string, mode: ValueMode): string | null | undefined {
    if (mode.cover !== null) return this.typed(this.view.maskWhole(mode.cover.column, text));
    if (!this.view.mayDetectText(text)) return undefined;
    const masked = this.view.maskText(text);
    return masked === text ? undefined : this.typed(masked);
  }

  private typed(masked: string): string | null {
    if (this.typedValues === 'text') return masked;
    this.nulled++;
    return null;
  }

  /** bytea content: detectors over its Latin-1 reading, masked in place. */
  private bytes(bytes: Uint8Array, mode: ValueMode): Buffer | undefined {
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
    let masked: string;
    if (mode.cover !== null) masked = this.view.maskWhole(mode.cover.column, text);
    else if (this.view.mayDetect(bytes, 0, bytes.length)) masked = this.view.maskText(text);
    else return undefined;
    return masked === text ? undefined : Buffer.from(masked, 'latin1');
  }

  // ---- binary format ----

  private binary(buf: Buffer, start: number, end: number, info: TypeInfo, mode: ValueMode): Replacement {
    switch (info.cls) {
      case 'safe':
        return mode.cover === null ? undefined : this.nullValue();
      case 'int': {
        // The common id or count: its digits tested without making a string.
        if (mode.cover === null) {
          const n = binaryIntAscii(buf, start, end, INT_TEXT);
          if (n >= 0 && !this.view.mayDetect(INT_TEXT, 0, n)) return undefined;
        }
        return this.binaryNumber(binaryIntText(buf, start, end), buf, start, end, mode);
      }
      case 'float':
        return this.binaryNumber(binaryFloatText(buf, start, end), buf, start, end, mode);
      case 'numeric':
        return this.binaryNumber(binaryNumericText(buf, start, end), buf, start, end, mode);
      case 'money':
        return this.binaryNumber(binaryMoneyText(buf, start, end), buf, start, end, mode);
      case 'bytea':
        return this.bytes(buf.subarray(start, end), mode);
      case 'array':
        return settle(this.binaryArray(buf.subarray(start, end), mode), () =>
          this.opaque(buf, start, end, mode),
        );
      case 'record':
        return settle(this.binaryRecord(buf.subarray(start, end), mode), () =>
          this.opaque(buf, start, end, mode),
        );
      case 'text':
      case 'json': {
        let from = start;
        if (info.versioned) {
          if (end === start || buf[start] !== 1) return this.opaque(buf, start, end, mode);
          from++;
        }
        if (
          mode.cover === null &&
          !(mode.jsonKeys && mayHoldJson(info)) &&
          !this.view.mayDetect(buf, from, end)
        )
          return undefined;
        const d = decode(buf, from, end);
        const out = info.cls === 'json' ? this.jsonText(d.text, mode) : this.plainText(d.text, mode);
        if (out === undefined || out === null) return out;
        if (!info.versioned) return encodeOut(out, d.latin1);
        const body = Buffer.from(out, d.latin1 ? 'latin1' : 'utf8');
        return Buffer.concat([VERSION_1, body]);
      }
      default:
        return this.unknownBinary(buf, start, end, mode);
    }
  }

  private binaryNumber(
    text: string | undefined,
    buf: Buffer,
    start: number,
    end: number,
    mode: ValueMode,
  ): Replacement {
    if (text === undefined) return this.opaque(buf, start, end, mode);
    if (mode.cover !== null) return this.nullValue();
    if (!this.view.mayDetectText(text)) return undefined;
    return this.view.maskText(text) === text ? undefined : this.nullValue();
  }

  private binaryArray(value: Buffer, mode: ValueMode): Replacement | undefined {
    const array = parseBinaryArray(value);
    if (array === undefined) return undefined;
    let out: (Uint8Array | null)[] | undefined;
    array.elements.forEach((e, i) => {
      if (e === null) return;
      const r = this.binary(e, 0, e.length, typeInfo(array.elementType), mode);
      if (r === undefined) return;
      out ??= array.elements.slice();
      out[i] = toBytes(r);
    });
    return out === undefined ? UNCHANGED : encodeBinaryArray(array, out);
  }

  private binaryRecord(value: Buffer, mode: ValueMode): Replacement | undefined {
    const fields = parseBinaryRecord(value);
    if (fields === undefined) return undefined;
    let out: (Uint8Array | null)[] | undefined;
    fields.forEach((f, i) => {
      if (f.value === null) return;
      const r = this.binary(f.value, 0, f.value.length, typeInfo(f.type), mode);
      if (r === undefined) return;
      out ??= fields.map((x) => x.value);
      out[i] = toBytes(r);
    });
    return out === undefined ? UNCHANGED : encodeBinaryRecord(fields, out);
  }

  /** A binary value of a type made at run time: recognised by its shape. */
  private unknownBinary(buf: Buffer, start: number, end: number, mode: ValueMode): Replacement {
    const value = buf.subarray(start, end);
    if (printableUtf8(value)) {
      if (mode.cover === null && !mode.jsonKeysSuffice && !this.view.mayDetect(buf, start, end))
        return undefined;
      const out = this.plainText(value.toString('utf8'), mode);
      return out;
    }
    return settle(this.binaryRecord(value, mode), () =>
      settle(this.binaryArray(value, mode), () => this.opaque(buf, start, end, mode)),
    );
  }

  /**
   * Bytes we cannot re-encode: NULL when covered or when a detector finds something in them —
   * read as Latin-1 text, and, since a domain over bigint or numeric has a run-time OID too, as
   * the digits of an int8, a float8 or a numeric when the bytes have that shape.
   */
  private opaque(buf: Buffer, start: number, end: number, mode: ValueMode): Replacement {
    if (mode.cover !== null) return this.nullValue();
    const readings: (string | undefined)[] = [binaryNumericText(buf, start, end)];
    if (end - start === 8) readings.push(binaryIntText(buf, start, end), binaryFloatText(buf, start, end));
    for (const text of readings) {
      if (text !== undefined && this.view.mayDetectText(text) && this.view.maskText(text) !== text)
        return this.nullValue();
    }
    if (!this.view.mayDetect(buf, start, end)) return undefined;
    const text = buf.toString('latin1', start, end);
    return this.view.maskText(text) === text ? undefined : this.nullValue();
  }

  private nullValue(): null {
    this.nulled++;
    return null;
  }
}

/** Scratch for binaryIntAscii (masking is synchronous). */
const INT_TEXT = new Uint8Array(24);

/** Marks "parsed, nothing to change" apart from "could not parse" (undefined) in the binary paths. */
const UNCHANGED = Buffer.alloc(0);

const VERSION_1 = Buffer.from([1]);

/** A structured parse's answer: unparsable → `otherwise`; parsed but unchanged → undefined. */
function settle(parsed: Replacement | undefined, otherwise: () => Replacement): Replacement {
  if (parsed === undefined) return otherwise();
  return parsed === UNCHANGED ? undefined : parsed;
}

function toBytes(r: DataRowValue): Uint8Array | null {
  if (r === null) return null;
  return typeof r === 'string' ? Buffer.from(r, 'utf8') : r;
}

function mayHoldJson(info: TypeInfo): boolean {
  return info.cls === 'json' || (info.cls === 'array' && typeInfo(info.element ?? 0).cls === 'json');
}

function holdsBytea(info: TypeInfo): boolean {
  return info.cls === 'bytea' || (info.cls === 'array' && typeInfo(info.element ?? 0).cls === 'bytea');
}

function looksLikeJson(text: string): boolean {
  const c = text.trimStart().charCodeAt(0);
  return c === 123 || c === 91;
}

function changed(before: string, after: string): string | undefined {
  return after === before ? undefined : after;
}

function decode(buf: Buffer, start: number, end: number): Decoded {
  const bytes = buf.subarray(start, end);
  let ascii = true;
  for (let i = start; i < end; i++) {
    if ((buf[i] as number) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return { text: buf.toString('latin1', start, end), latin1: false };
  if (isUtf8(bytes)) return { text: bytes.toString('utf8'), latin1: false };
  return { text: bytes.toString('latin1'), latin1: true };
}

function encodeOut(text: string, latin1: boolean): DataRowValue {
  return latin1 ? Buffer.from(text, 'latin1') : text;
}

function printableUtf8(value: Buffer): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as number;
    if ((c < 0x20 && c !== 9 && c !== 10 && c !== 13) || c === 0x7f) return false;
  }
  return isUtf8(value);
}
