/**
 * Per result column, once: does a rule cover it as a whole (its own name, its table column's
 * name, or any source in its lineage), do whole rows flow into it, or do only the detectors apply?
 */

import type { JsonMasking } from './json-masking.js';
import type { ColumnLineage } from './lineage-types.js';
import type { MaskingPolicyView } from './masking-policy.js';
import { type TypeInfo, typeInfo } from './type-oids.js';
import type { Cover, ValueMode } from './value-masker.js';

/** One RowDescription field as the masker needs it (pg-protocol's names are accepted too). */
export interface FieldInfo {
  readonly name: string;
  /** OID of the table the column comes from, or 0 (pg-protocol: tableID). */
  readonly tableOID: number;
  /** Attribute number in that table, or 0 (pg-protocol: columnID). */
  readonly columnAttr: number;
  /** pg-protocol: dataTypeID. */
  readonly typeOID: number;
  readonly typeSize: number;
  readonly typeModifier: number;
  /** 0 text, 1 binary. */
  readonly format: 0 | 1;
}

export interface CatalogHints {
  /** Column names of a table (or view) as the lineage names it, when the relay knows them. */
  readonly tableColumns?: ((table: string) => readonly string[] | undefined) | undefined;
  /** The name of attribute `columnAttr` of table `tableOID`, when the relay knows it. */
  readonly columnName?: ((tableOID: number, columnAttr: number) => string | undefined) | undefined;
}

export interface ColumnPlan {
  readonly type: number;
  readonly format: 0 | 1;
  readonly mode: ValueMode;
  /** Nothing can change this column's values: they are not even looked at. */
  readonly idle: boolean;
  /**
   * The value's bytes are the text the detectors would see and nothing else can change it: when
   * the prefilter says no on the raw bytes, the value is skipped without further ado.
   */
  readonly bytePrefilter: boolean;
  /** Why the column is masked whole, for the notice: the covering source, if any. */
  readonly reason: string | undefined;
}

const FULL: Cover = Object.freeze({ column: undefined });

export function planColumn(
  view: MaskingPolicyView,
  field: FieldInfo,
  lineage: ColumnLineage | undefined,
  opaque: boolean,
  hints: CatalogHints,
): ColumnPlan {
  let cover: Cover | null = null;
  let reason: string | undefined;
  const tryCover = (column: string): boolean => {
    if (cover === null && view.coversColumn(column)) {
      cover = { column };
      reason = column;
    }
    return cover !== null;
  };
  if (opaque && view.hasColumnRules) {
    cover = FULL;
    reason = 'unanalysed statement';
  }
  tryCover(field.name);
  if (cover === null && field.tableOID !== 0 && hints.columnName !== undefined) {
    const real = hints.columnName(field.tableOID, field.columnAttr);
    if (real !== undefined) tryCover(real);
  }
  const wholeRows = new Set<string>();
  const fieldCovers = new Map<string, Cover>();
  if (lineage !== undefined) {
    for (const s of lineage.sources) {
      if (s.endsWith('.*')) wholeRows.add(s.slice(0, -2));
      else if (tryCover(s)) break;
    }
    for (const [key, sources] of Object.entries(lineage.fields ?? {})) {
      for (const s of sources) {
        if (s.endsWith('.*')) {
          wholeRows.add(s.slice(0, -2));
        } else if (view.coversColumn(s)) {
          fieldCovers.set(key, { column: s });
          break;
        }
      }
    }
  }
  // Values built from whole rows: JSON is masked by its keys, other shapes as a whole when the
  // rows may hold a covered column.
  let jsonKeysSuffice = false;
  if (cover === null && (wholeRows.size > 0 || fieldCovers.size > 0)) {
    jsonKeysSuffice = true;
    const [key, first] = fieldCovers.entries().next().value ?? [];
    if (first !== undefined) {
      cover = first;
      reason = `${key} (${first.column})`;
    }
    for (const table of wholeRows) {
      if (cover !== null) break;
      const known = hints.tableColumns?.(table);
      if (known === undefined) {
        if (view.hasColumnRules) {
          cover = FULL;
          reason = `whole rows of ${table}`;
        }
      } else {
        for (const c of known) if (tryCover(`${table}.${c}`)) break;
      }
    }
  }
  const json: JsonMasking = {
    path: field.name,
    coverOf(path, key, depth) {
      if (view.coversColumn(path)) return { column: path };
      return depth === 1 ? (fieldCovers.get(key) ?? null) : null;
    },
    mayDetect: (t) => view.mayDetectText(t),
    maskText: (t) => view.maskText(t),
    maskWhole: (c, t) => view.maskWhole(c.column, t),
  };
  const jsonKeys = view.hasColumnRules || fieldCovers.size > 0;
  const mode: ValueMode = { cover, jsonKeysSuffice, json, jsonKeys };
  const info = typeInfo(field.typeOID);
  const inert = info.cls === 'safe' || (info.cls === 'array' && typeInfo(info.element ?? 0).cls === 'safe');
  const idle = cover === null && (inert || (!view.hasDetectors && !jsonKeys));
  const bytePrefilter = cover === null && !jsonKeysSuffice && rawIsText(info, field.format, jsonKeys);
  return { type: field.typeOID, format: field.format, mode, idle, bytePrefilter, reason };
}

/** Whether a value's raw bytes are all the detectors would look at (see ColumnPlan.bytePrefilter). */
function rawIsText(info: TypeInfo, format: 0 | 1, jsonKeys: boolean): boolean {
  const json = info.cls === 'json' || (info.cls === 'array' && typeInfo(info.element ?? 0).cls === 'json');
  if (json) return !jsonKeys && (format === 0 || !info.versioned);
  if (format === 0)
    return info.cls !== 'bytea' && !(info.cls === 'array' && typeInfo(info.element ?? 0).cls === 'bytea');
  return info.cls === 'text' && !info.versioned;
}

/**
 * Lineage entries per result field. `*` over a table stands for an unknown number of fields: with
 * one such entry the count follows from the field count; with several, a run of fields from one
 * table (same table OID, attribute numbers rising — how PostgreSQL expands `*`) is taken for each,
 * or the table's column count when known. Undefined when the two cannot be lined up.
 */
export function alignLineage(
  fields: readonly FieldInfo[],
  entries: readonly ColumnLineage[],
  hints: CatalogHints,
): (ColumnLineage | undefined)[] | undefined {
  const n = fields.length;
  const expanding = entries.filter((e) => e.expands !== undefined).length;
  const fixed = entries.length - expanding;
  if (expanding === 0) return entries.length === n ? [...entries] : undefined;
  const out: (ColumnLineage | undefined)[] = [];
  let p = 0;
  let fixedLeft = fixed;
  for (const e of entries) {
    if (e.expands === undefined) {
      if (p >= n) return undefined;
      out.push(e);
      p++;
      fixedLeft--;
      continue;
    }
    const room = n - fixedLeft - p;
    if (room < 0) return undefined;
    let width: number;
    const known = e.expands === '' ? undefined : hints.tableColumns?.(e.expands)?.length;
    if (expanding === 1) width = room;
    else if (known !== undefined) width = Math.min(known, room);
    else width = starRun(fields, p, room);
    for (let i = 0; i < width; i++) {
      const f = fields[p + i] as FieldInfo;
      // A field without a name (COPY) stays an expansion: some column of the table, unknown which.
      if (f.name === '') out.push(e);
      else out.push({ name: f.name, sources: e.expands === '' ? e.sources : [`${e.expands}.${f.name}`] });
    }
    p += width;
  }
  return p === n ? out : undefined;
}

function starRun(fields: readonly FieldInfo[], from: number, room: number): number {
  const first = fields[from];
  if (first === undefined || first.tableOID === 0) return 0;
  let width = 1;
  let attr = first.columnAttr;
  while (width < room) {
    const f = fields[from + width] as FieldInfo;
    if (f.tableOID !== first.tableOID || f.columnAttr <= attr) break;
    attr = f.columnAttr;
    width++;
  }
  return width;
}

/** Lineage for fields that could not be lined up: every source of the statement, for computed fields. */
export function unionLineage(entries: readonly ColumnLineage[]): ColumnLineage {
  const sources = new Set<string>();
  const fields: Record<string, string[]> = {};
  for (const e of entries) {
    for (const s of e.sources) sources.add(s);
    for (const [k, v] of Object.entries(e.fields ?? {})) fields[k] = [...(fields[k] ?? []), ...v];
  }
  return { name: undefined, sources: [...sources], fields };
}

/** Replaces `*` entries of tables whose columns the relay knows by one entry per column. */
export function expandKnownTables(
  entries: readonly ColumnLineage[],
  hints: CatalogHints,
): readonly ColumnLineage[] {
  if (hints.tableColumns === undefined || !entries.some((e) => e.expands)) return entries;
  return entries.flatMap((e) => {
    const known = e.expands ? hints.tableColumns?.(e.expands) : undefined;
    if (known === undefined) return [e];
    return known.map((c) => ({ name: c, sources: [`${e.expands}.${c}`] }));
  });
}
