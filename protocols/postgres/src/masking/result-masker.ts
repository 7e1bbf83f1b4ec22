/**
 * Result masking for the PostgreSQL relay: one object per client connection (per identity's
 * masker), one RowMasker per result set, called for every DataRow on the way to the client.
 *
 * Per row the work is a walk over the length words; a column is only looked at when its plan
 * (column-plan.ts) says a rule covers it or its type can carry text, and a text value is only
 * decoded when the prefilter says a detector could fire. A row with nothing to change is returned
 * as the very same buffer.
 */
import { type Masker, ProtocolError } from '@gatehouse/core';
import { type ErrorFields, type NoticeSeverity, rewriteDataRow } from '../wire/index.js';
import {
  alignLineage,
  type CatalogHints,
  type ColumnPlan,
  type FieldInfo,
  planColumn,
  unionLineage,
} from './column-plan.js';
import { type CopyColumns, CopyMasker, type CopyOutInfo } from './copy-masker.js';
import { type MaskableErrorFields, maskErrorFields, maskErrorMessage } from './error-masking.js';
import type { ColumnLineage, StatementLineage } from './lineage-types.js';
import { MaskingPolicyView, type PrefilterOption } from './masking-policy.js';
import { type Replacement, type TypedValues, ValueMasker } from './value-masker.js';

export interface ResultMaskerOptions extends CatalogHints {
  /**
   * The cheap test that lets a value skip the detectors: `'masker'` (the default) uses the
   * masker's `mayDetect`; `'none'` runs the detectors on every text value.
   */
  readonly prefilter?: PrefilterOption;
  /**
   * What a masked number, date or other non-text value becomes in text format: `'null'` (the
   * default; every client reads it) or `'text'` (the mask itself, which typed clients reject).
   * Binary format always gets NULL.
   */
  readonly typedValues?: TypedValues;
}

/** A RowDescription field as pg-protocol's parser gives it, or as FieldInfo. */
export type FieldLike =
  | FieldInfo
  | {
      readonly name: string;
      readonly tableID: number;
      readonly columnID: number;
      readonly dataTypeID: number;
      readonly dataTypeSize: number;
      readonly dataTypeModifier: number;
      readonly format: 'text' | 'binary' | number;
    };

export type RowDescriptionInfo = readonly FieldLike[] | { readonly fields: readonly FieldLike[] };

export interface MaskingStats {
  readonly rows: number;
  /** Rows sent with at least one value changed. */
  readonly maskedRows: number;
  /** Values replaced by NULL (their type cannot hold a mask). */
  readonly nulled: number;
}

export interface RowMasker {
  /** False when no value of this result can change: maskDataRow returns every row untouched. */
  readonly active: boolean;
  /** The DataRow to send: `raw` itself when nothing changed. Throws ProtocolError on a malformed row. */
  maskDataRow(raw: Buffer): Buffer;
  /** A NoticeResponse to send before CommandComplete when values were replaced by NULL. */
  notice(): ErrorFields<NoticeSeverity> | undefined;
  stats(): MaskingStats;
}

export interface ResultMasker {
  /**
   * Starts a result set. `rowDescription` is the RowDescription the client will see, with the
   * formats of this execution (for the extended protocol: from Bind, not from a Describe of the
   * statement); undefined when the client skipped Describe and none is cached — values are then
   * recognised by shape. `lineage` comes from analyzeLineage for the statement producing it.
   */
  startResult(
    rowDescription: RowDescriptionInfo | undefined,
    lineage?: StatementLineage | readonly ColumnLineage[],
  ): RowMasker;
  /** Starts a COPY … TO STDOUT, after its CopyOutResponse. */
  startCopy(copyOut: CopyOutInfo, columns?: CopyColumns): CopyMasker;
  /** One CopyData message of a COPY started with startCopy (same as `state.maskCopyData(raw)`). */
  maskCopyData(raw: Buffer, state: CopyMasker): Buffer | undefined;
  /** ErrorResponse / NoticeResponse fields (pg-protocol's or ErrorFields), free text masked. */
  maskErrorFields<T extends MaskableErrorFields>(fields: T): T;
  /** A raw ErrorResponse or NoticeResponse message: the same buffer when nothing changed. */
  maskErrorMessage(raw: Buffer): Buffer;
  /** A LISTEN/NOTIFY payload. */
  maskNotification(payload: string): string;
}

export function createResultMasker(masker: Masker, options: ResultMaskerOptions = {}): ResultMasker {
  const view = new MaskingPolicyView(masker, options.prefilter);
  const typedValues = options.typedValues ?? 'null';
  const hints: CatalogHints = { tableColumns: options.tableColumns, columnName: options.columnName };
  return {
    startResult(rowDescription, lineage) {
      return new DataRowMasker(view, typedValues, hints, rowDescription, lineage);
    },
    startCopy(copyOut, columns) {
      return new CopyMasker(view, typedValues, hints, copyOut, columns);
    },
    maskCopyData(raw, state) {
      return state.maskCopyData(raw);
    },
    maskErrorFields(fields) {
      return maskErrorFields(view, hints, fields);
    },
    maskErrorMessage(raw) {
      return maskErrorMessage(view, hints, raw);
    },
    maskNotification(payload) {
      return view.mayDetectText(payload) ? view.maskText(payload) : payload;
    },
  };
}

/** FieldInfo from either shape; missing numbers are 0, formats other than 1 are text. */
export function fieldInfo(f: FieldLike): FieldInfo {
  if ('typeOID' in f) return f;
  return {
    name: f.name,
    tableOID: f.tableID,
    columnAttr: f.columnID,
    typeOID: f.dataTypeID,
    typeSize: f.dataTypeSize,
    typeModifier: f.dataTypeModifier,
    format: f.format === 'binary' || f.format === 1 ? 1 : 0,
  };
}

function fieldList(desc: RowDescriptionInfo): FieldInfo[] {
  const list = 'fields' in desc ? desc.fields : desc;
  return list.map(fieldInfo);
}

/** A column beyond the description (or of an undescribed result): known only by its bytes. */
function shapeField(name: string | undefined): FieldInfo {
  return {
    name: name ?? '',
    tableOID: 0,
    columnAttr: 0,
    typeOID: 0,
    typeSize: -1,
    typeModifier: -1,
    format: 1,
  };
}

class DataRowMasker implements RowMasker {
  readonly active: boolean;
  private readonly plans: ColumnPlan[];
  private readonly values: ValueMasker;
  private rows = 0;
  private maskedRows = 0;
  private readonly nulledBy = new Map<number, number>();
  private readonly lineageEntries: readonly ColumnLineage[] | undefined;
  private readonly opaque: boolean;

  constructor(
    private readonly view: MaskingPolicyView,
    typedValues: TypedValues,
    private readonly hints: CatalogHints,
    desc: RowDescriptionInfo | undefined,
    lineage: StatementLineage | readonly ColumnLineage[] | undefined,
  ) {
    this.values = new ValueMasker(view, typedValues);
    const statement = lineage !== undefined && 'opaque' in lineage ? lineage : undefined;
    this.lineageEntries =
      statement === undefined ? (lineage as readonly ColumnLineage[] | undefined) : statement.columns;
    this.opaque = statement?.opaque ?? false;
    this.described = desc !== undefined;
    const fields = desc === undefined ? [] : fieldList(desc);
    this.fields = fields;
    this.plans = this.planFor(fields);
    this.active = desc === undefined || this.plans.some((p) => !p.idle);
  }

  private readonly described: boolean;
  private readonly fields: FieldInfo[];

  private planFor(fields: readonly FieldInfo[]): ColumnPlan[] {
    const entries = this.lineageEntries;
    const aligned = entries === undefined ? undefined : alignLineage(fields, entries, this.hints);
    const fallback = entries !== undefined && aligned === undefined ? unionLineage(entries) : undefined;
    return fields.map((f, i) => {
      // Unaligned lineage: a computed field (no table origin) may derive from anything the statement reads.
      const entry = aligned?.[i] ?? (fallback !== undefined && f.tableOID === 0 ? fallback : undefined);
      return planColumn(this.view, f, entry, this.opaque, this.hints);
    });
  }

  /** Plans for columns no RowDescription described, built on first sight. */
  private extraPlan(i: number): ColumnPlan {
    let plan = this.plans[i];
    if (plan !== undefined) return plan;
    const entries = this.lineageEntries;
    const simple = entries !== undefined && !entries.some((e) => e.expands !== undefined);
    const entry = simple ? entries[i] : entries === undefined ? undefined : unionLineage(entries);
    const name = this.described ? undefined : entry?.name;
    plan = planColumn(this.view, shapeField(name), entry, this.opaque, this.hints);
    this.plans[i] = plan;
    return plan;
  }

  maskDataRow(raw: Buffer): Buffer {
    if (!this.active) return raw;
    const len = raw.length;
    if (len < 7 || raw[0] !== 0x44) fail('not a DataRow message');
    if (raw.readInt32BE(1) !== len - 1)
      fail(`length word says ${raw.readInt32BE(1)} but the message holds ${len - 1}`);
    const count = raw.readUInt16BE(5);
    this.rows++;
    let pos = 7;
    let changes: Replacement[] | undefined;
    for (let i = 0; i < count; i++) {
      if (pos + 4 > len) fail(`column ${i + 1} length runs past the end of the message`);
      const n = raw.readInt32BE(pos);
      pos += 4;
      if (n === -1) continue;
      if (n < 0 || n > len - pos) fail(`column ${i + 1} declares ${n} bytes, ${len - pos} left`);
      const plan = i < this.fields.length ? (this.plans[i] as ColumnPlan) : this.extraPlan(i);
      if (!plan.idle && !(plan.bytePrefilter && !this.view.mayDetect(raw, pos, pos + n))) {
        const r = this.maskValue(raw, pos, pos + n, plan, i);
        if (r !== undefined) {
          changes ??= new Array<Replacement>(count);
          changes[i] = r;
        }
      }
      pos += n;
    }
    if (pos !== len) fail(`${len - pos} unexpected bytes after the last column`);
    if (changes === undefined) return raw;
    const out = rewriteDataRow(raw, (_, i) => changes[i]);
    if (out !== raw) this.maskedRows++;
    return out;
  }

  private maskValue(raw: Buffer, start: number, end: number, plan: ColumnPlan, column: number): Replacement {
    const before = this.values.nulled;
    let r: Replacement;
    try {
      r = this.values.mask(raw, start, end, plan.type, plan.format, plan.mode);
    } catch {
      // A value we failed to process is withheld, never passed on unmasked.
      r = null;
      this.values.nulled++;
    }
    if (this.values.nulled !== before) this.nulledBy.set(column, (this.nulledBy.get(column) ?? 0) + 1);
    return r;
  }

  notice(): ErrorFields<NoticeSeverity> | undefined {
    if (this.nulledBy.size === 0) return undefined;
    const total = [...this.nulledBy.values()].reduce((a, b) => a + b, 0);
    const columns = [...this.nulledBy.keys()].map((i) => {
      const name = this.fields[i]?.name;
      return name === undefined || name === '' ? `#${i + 1}` : JSON.stringify(name);
    });
    return {
      severity: 'NOTICE',
      code: '01000',
      message: `gatehouse masked ${total} value${total === 1 ? '' : 's'} as NULL`,
      detail: `Masked values of non-text types cannot be sent as text; affected column${columns.length === 1 ? '' : 's'}: ${columns.join(', ')}.`,
    };
  }

  stats(): MaskingStats {
    return { rows: this.rows, maskedRows: this.maskedRows, nulled: this.values.nulled };
  }
}

function fail(problem: string): never {
  throw new ProtocolError(`DataRow: ${problem}`, { details: { message: 'DataRow' } });
}
