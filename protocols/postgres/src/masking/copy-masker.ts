/**
 * Masking of COPY … TO STDOUT data (CopyData messages after a CopyOutResponse), in the three COPY
 * formats. Rows may span CopyData messages (PostgreSQL sends one row per message, but nothing in
 * the protocol promises it): an incomplete row waits in a carry buffer until the rest arrives, and
 * `finish()` (at CopyDone) releases whatever is left.
 *
 * COPY has no RowDescription: column names come from the caller (the COPY's column list, or the
 * table's columns from the catalog) or from the statement's lineage; types are unknown, so text
 * and CSV fields are masked as text and binary fields are recognised by shape. When a column's
 * name cannot be known (`COPY users TO STDOUT` with no catalog hint) and any column rule exists,
 * its values are masked whole: the column might be a covered one.
 */
import { ProtocolError } from '@gatehouse/core';
import { copyData } from '../wire/index.js';
import {
  alignLineage,
  type CatalogHints,
  type ColumnPlan,
  expandKnownTables,
  type FieldInfo,
  planColumn,
  unionLineage,
} from './column-plan.js';
import { decodeTextField, encodeTextField, joinFields, utf8OrLatin1 } from './copy-text.js';
import type { CopyFormat, StatementLineage } from './lineage-types.js';
import type { MaskingPolicyView } from './masking-policy.js';
import { type TypedValues, ValueMasker } from './value-masker.js';

export interface CopyOutInfo {
  /** The CopyOutResponse's overall format: 0 textual (text or CSV), 1 binary. */
  readonly format: number;
  /** Text or CSV, with the statement's options (StatementLineage.copy); text defaults otherwise. */
  readonly options?: CopyFormat | undefined;
}

export interface CopyColumns {
  /** Column names in order, when known. */
  readonly names?: readonly string[] | undefined;
  /** The COPY statement's lineage (analyzeLineage). */
  readonly lineage?: StatementLineage | undefined;
}

const TEXT_DEFAULTS: CopyFormat = {
  format: 'text',
  delimiter: '\t',
  null: '\\N',
  quote: '"',
  escape: '"',
  header: false,
};
const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const LF = 10;

export class CopyMasker {
  private readonly values: ValueMasker;
  private readonly binary: boolean;
  private readonly csv: boolean;
  private readonly opts: CopyFormat;
  private readonly delimiter: number;
  private readonly quote: number;
  private readonly escape: number;
  private readonly nullMarker: Buffer;
  private carry: Buffer = Buffer.alloc(0);
  private headerPending: boolean;
  private binaryHeaderDone = false;
  private binaryEnded = false;
  private plans: ColumnPlan[] | undefined;

  constructor(
    private readonly view: MaskingPolicyView,
    typedValues: TypedValues,
    private readonly hints: CatalogHints,
    info: CopyOutInfo,
    private readonly columns: CopyColumns = {},
  ) {
    this.values = new ValueMasker(view, typedValues);
    this.opts = info.options ?? TEXT_DEFAULTS;
    this.binary = info.format === 1 || this.opts.format === 'binary';
    this.csv = !this.binary && this.opts.format === 'csv';
    this.delimiter = this.opts.delimiter.charCodeAt(0);
    this.quote = this.opts.quote.charCodeAt(0);
    this.escape = this.opts.escape.charCodeAt(0);
    this.nullMarker = Buffer.from(this.opts.null, 'utf8');
    this.headerPending = !this.binary && this.opts.header;
  }

  /** Values replaced by NULL (binary COPY fields that cannot hold a mask). */
  get nulled(): number {
    return this.values.nulled;
  }

  /** The CopyData message to send for this one: `raw` itself when nothing changed, undefined to hold. */
  maskCopyData(raw: Buffer): Buffer | undefined {
    if (raw.length < 5 || raw[0] !== 0x64 || raw.readInt32BE(1) !== raw.length - 1) {
      throw new ProtocolError('CopyData: malformed message', { details: { message: 'CopyData' } });
    }
    const payload = raw.subarray(5);
    const whole = this.carry.length === 0;
    const data = whole ? payload : Buffer.concat([this.carry, payload]);
    const { out, consumed, changed } = this.binary ? this.binaryRows(data) : this.textRows(data, false);
    this.carry = consumed === data.length ? Buffer.alloc(0) : Buffer.from(data.subarray(consumed));
    if (whole && consumed === data.length && !changed) return raw;
    return out.length === 0 ? undefined : copyData(Buffer.concat(out));
  }

  /** At CopyDone: what is left in the carry buffer, as a CopyData message, or undefined. */
  finish(): Buffer | undefined {
    if (this.carry.length === 0) return undefined;
    const data = this.carry;
    this.carry = Buffer.alloc(0);
    if (this.binary) {
      throw new ProtocolError('CopyData: binary COPY data ends inside a tuple', {
        details: { message: 'CopyData' },
      });
    }
    const { out } = this.textRows(data, true);
    return copyData(Buffer.concat(out));
  }

  // ---- text and CSV ----

  private textRows(data: Buffer, final: boolean): { out: Buffer[]; consumed: number; changed: boolean } {
    const out: Buffer[] = [];
    let changed = false;
    let pos = 0;
    while (pos < data.length) {
      const end = this.csv ? this.csvRowEnd(data, pos) : data.indexOf(LF, pos);
      if (end === -1 && !final) break;
      const rowEnd = end === -1 ? data.length : end;
      const next = end === -1 ? data.length : end + 1;
      if (this.headerPending) {
        this.headerPending = false;
        out.push(data.subarray(pos, next));
      } else {
        const row = this.csv ? this.csvRow(data, pos, rowEnd) : this.textRow(data, pos, rowEnd);
        if (row === undefined) out.push(data.subarray(pos, next));
        else {
          changed = true;
          out.push(row, data.subarray(rowEnd, next));
        }
      }
      pos = next;
    }
    return { out, consumed: pos, changed };
  }

  /** The fields of a text-format row: masked and re-escaped, or undefined when unchanged. */
  private textRow(data: Buffer, start: number, end: number): Buffer | undefined {
    const bounds: number[] = [start];
    for (let i = start; i < end; i++) {
      const c = data[i] as number;
      if (c === 92 /* \ */) i++;
      else if (c === this.delimiter) bounds.push(i + 1);
    }
    const plans = this.plansFor(bounds.length);
    let parts: Buffer[] | undefined;
    for (let f = 0; f < bounds.length; f++) {
      const s = bounds[f] as number;
      const e = f + 1 < bounds.length ? (bounds[f + 1] as number) - 1 : end;
      const plan = plans[f] as ColumnPlan;
      if (plan.idle || this.isNull(data, s, e)) continue;
      if (plan.mode.cover === null && !this.view.mayDetect(data, s, e)) continue;
      const value = decodeTextField(data.subarray(s, e));
      const masked = this.maskString(value, plan);
      if (masked === undefined || masked === value) continue;
      parts ??= bounds.map((b, k) =>
        data.subarray(b, k + 1 < bounds.length ? (bounds[k + 1] as number) - 1 : end),
      );
      parts[f] =
        masked === null ? this.nullMarker : Buffer.from(encodeTextField(masked, this.opts.delimiter), 'utf8');
    }
    return parts === undefined ? undefined : joinFields(parts, this.delimiter);
  }

  /** A text field's replacement; a value we failed to process is withheld (NULL), never passed on. */
  private maskString(value: string, plan: ColumnPlan): string | null | undefined {
    try {
      return this.values.maskString(value, 0, plan.mode);
    } catch {
      return null;
    }
  }

  private isNull(data: Buffer, s: number, e: number): boolean {
    return (
      e - s === this.nullMarker.length && data.compare(this.nullMarker, 0, this.nullMarker.length, s, e) === 0
    );
  }

  /** End (the LF) of the CSV row starting at `pos`, outside quotes; -1 when not in `data` yet. */
  private csvRowEnd(data: Buffer, pos: number): number {
    let quoted = false;
    for (let i = pos; i < data.length; i++) {
      const c = data[i] as number;
      if (quoted) {
        if (c === this.escape && this.escape !== this.quote && i + 1 < data.length) {
          const n = data[i + 1] as number;
          if (n === this.quote || n === this.escape) i++;
        } else if (c === this.quote) {
          quoted = false;
        }
      } else if (c === this.quote) {
        quoted = true;
      } else if (c === LF) {
        return i;
      }
    }
    return -1;
  }

  private csvRow(data: Buffer, start: number, end: number): Buffer | undefined {
    const fields = this.csvFields(data, start, end);
    const plans = this.plansFor(fields.length);
    let parts: Buffer[] | undefined;
    fields.forEach((f, i) => {
      const plan = plans[i] as ColumnPlan;
      if (plan.idle || f.value === null) return;
      if (plan.mode.cover === null && !this.view.mayDetect(data, f.start, f.end)) return;
      const masked = this.maskString(f.value, plan);
      if (masked === undefined || masked === f.value) return;
      parts ??= fields.map((x) => data.subarray(x.start, x.end));
      parts[i] = masked === null ? this.nullMarker : Buffer.from(this.csvQuote(masked), 'utf8');
    });
    return parts === undefined ? undefined : joinFields(parts, this.delimiter);
  }

  private csvFields(
    data: Buffer,
    start: number,
    end: number,
  ): { start: number; end: number; value: string | null }[] {
    const fields: { start: number; end: number; value: string | null }[] = [];
    let i = start;
    for (;;) {
      const s = i;
      let quotedAny = false;
      const bytes: number[] = [];
      while (i < end) {
        const c = data[i] as number;
        if (c === this.quote) {
          quotedAny = true;
          for (i++; i < end; i++) {
            const q = data[i] as number;
            if (
              q === this.escape &&
              i + 1 < end &&
              (data[i + 1] === this.quote || data[i + 1] === this.escape) &&
              (this.escape !== this.quote || data[i + 1] === this.quote)
            ) {
              bytes.push(data[i + 1] as number);
              i++;
            } else if (q === this.quote) {
              break;
            } else bytes.push(q);
          }
          i++;
          continue;
        }
        if (c === this.delimiter) break;
        bytes.push(c);
        i++;
      }
      const e = Math.min(i, end);
      const isNull = !quotedAny && this.isNull(data, s, e);
      fields.push({ start: s, end: e, value: isNull ? null : utf8OrLatin1(Buffer.from(bytes)) });
      if (i >= end) break;
      i++;
    }
    return fields;
  }

  private csvQuote(value: string): string {
    const q = this.opts.quote;
    const esc = this.opts.escape;
    let out = '';
    for (const ch of value) out += ch === q || (ch === esc && esc !== q) ? esc + ch : ch;
    return q + out + q;
  }

  // ---- binary ----

  private binaryRows(data: Buffer): { out: Buffer[]; consumed: number; changed: boolean } {
    const out: Buffer[] = [];
    let changed = false;
    let pos = 0;
    if (!this.binaryHeaderDone) {
      if (data.length < 19) return { out, consumed: 0, changed: false };
      if (!data.subarray(0, 11).equals(SIGNATURE)) fail('binary COPY data lacks the PGCOPY signature');
      const ext = data.readInt32BE(15);
      if (ext < 0) fail('binary COPY header extension length is negative');
      if (data.length < 19 + ext) return { out, consumed: 0, changed: false };
      pos = 19 + ext;
      out.push(data.subarray(0, pos));
      this.binaryHeaderDone = true;
    }
    while (pos + 2 <= data.length) {
      if (this.binaryEnded) fail('binary COPY data after the trailer');
      const count = data.readInt16BE(pos);
      if (count === -1) {
        out.push(data.subarray(pos, pos + 2));
        pos += 2;
        this.binaryEnded = true;
        continue;
      }
      if (count < 0) fail(`binary COPY tuple with ${count} fields`);
      const tuple = this.binaryTuple(data, pos, count);
      if (tuple === undefined) break;
      out.push(tuple.bytes);
      changed ||= tuple.changed;
      pos = tuple.end;
    }
    return { out, consumed: pos, changed };
  }

  /** One tuple from `pos`; undefined when it is not complete in `data` yet. */
  private binaryTuple(
    data: Buffer,
    pos: number,
    count: number,
  ): { bytes: Buffer; end: number; changed: boolean } | undefined {
    const plans = this.plansFor(count);
    const start = pos;
    pos += 2;
    const fields: { start: number; end: number }[] = [];
    for (let i = 0; i < count; i++) {
      if (pos + 4 > data.length) return undefined;
      const n = data.readInt32BE(pos);
      pos += 4;
      if (n === -1) {
        fields.push({ start: pos, end: -1 });
        continue;
      }
      if (n < 0) fail(`binary COPY field of ${n} bytes`);
      if (pos + n > data.length) return undefined;
      fields.push({ start: pos, end: pos + n });
      pos += n;
    }
    let values: (Uint8Array | null)[] | undefined;
    fields.forEach((f, i) => {
      const plan = plans[i] as ColumnPlan;
      if (f.end === -1 || plan.idle) return;
      let r: Uint8Array | string | null | undefined;
      try {
        r = this.values.mask(data, f.start, f.end, 0, 1, plan.mode);
      } catch {
        r = null;
      }
      if (r === undefined) return;
      values ??= fields.map((x) => (x.end === -1 ? null : data.subarray(x.start, x.end)));
      values[i] = typeof r === 'string' ? Buffer.from(r, 'utf8') : r;
    });
    if (values === undefined) return { bytes: data.subarray(start, pos), end: pos, changed: false };
    let size = 2;
    for (const v of values) size += 4 + (v?.length ?? 0);
    const bytes = Buffer.allocUnsafe(size);
    let w = bytes.writeInt16BE(count, 0);
    for (const v of values) {
      if (v === null) {
        w = bytes.writeInt32BE(-1, w);
        continue;
      }
      w = bytes.writeInt32BE(v.length, w);
      bytes.set(v, w);
      w += v.length;
    }
    return { bytes, end: pos, changed: true };
  }

  // ---- plans ----

  private plansFor(count: number): ColumnPlan[] {
    if (this.plans !== undefined && this.plans.length >= count) return this.plans;
    const names = this.columns.names;
    const lineage = this.columns.lineage;
    const entries =
      lineage?.columns === undefined ? undefined : expandKnownTables(lineage.columns, this.hints);
    const fields: FieldInfo[] = Array.from({ length: count }, (_, i) => ({
      name: names?.[i] ?? '',
      tableOID: 0,
      columnAttr: 0,
      typeOID: 0,
      typeSize: -1,
      typeModifier: -1,
      format: this.binary ? 1 : 0,
    }));
    const aligned = entries === undefined ? undefined : alignLineage(fields, entries, this.hints);
    const fallback = entries !== undefined && aligned === undefined ? unionLineage(entries) : undefined;
    this.plans = fields.map((f, i) => {
      const entry = aligned?.[i] ?? fallback;
      const name = f.name !== '' ? f.name : ((entry?.expands === undefined ? entry?.name : undefined) ?? '');
      // A column whose name nobody knows may be any column of the table, a covered one included.
      const unknown = name === '' && (entry === undefined || entry.expands !== undefined);
      return planColumn(this.view, { ...f, name }, entry, unknown || lineage?.opaque === true, this.hints);
    });
    return this.plans;
  }
}

function fail(problem: string): never {
  throw new ProtocolError(`CopyData: ${problem}`, { details: { message: 'CopyData' } });
}
