/**
 * Masking of ErrorResponse and NoticeResponse fields. PostgreSQL echoes data in them: unique and
 * foreign-key violations (`Key (email)=(bob@example.com) already exists.`), check and not-null
 * violations (`Failing row contains (…)`), invalid input (`invalid input syntax for type integer:
 * "4111…"`), COPY context (`COPY users, line 3, column ssn: "…"`), and whatever a function raises.
 *
 * Every free-text field goes through the detectors. On top, values the message ties to a column
 * are masked by that column's rule: `Key (cols)=(values)` when a listed column (or an index
 * expression mentioning one) is covered, `column x: "value"` in COPY context, and the failing row of
 * a table that has — or, when its columns are unknown, may have — a covered column (the row is
 * printed without names, so it is masked as a whole).
 */
import { ProtocolError } from '@gatehouse/core';
import type { CatalogHints } from './column-plan.js';
import type { MaskingPolicyView } from './masking-policy.js';

/** ErrorFields-like objects: ours (wire/error-response.ts) or pg-protocol's DatabaseError/NoticeMessage. */
export type MaskableErrorFields = { readonly [key: string]: unknown };

/** Fields that hold codes, numbers and source locations, never data. */
const NOT_TEXT = new Set([
  'severity',
  'severityNonLocalized',
  'code',
  'position',
  'internalPosition',
  'file',
  'line',
  'routine',
  'name',
  'length',
]);

export function maskErrorFields<T extends MaskableErrorFields>(
  view: MaskingPolicyView,
  hints: CatalogHints,
  fields: T,
): T {
  const table = typeof fields['table'] === 'string' ? fields['table'] : undefined;
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(fields)) {
    const value = fields[key];
    if (typeof value !== 'string' || NOT_TEXT.has(key)) continue;
    const masked = maskErrorText(view, hints, value, table);
    if (masked === value) continue;
    out ??= { ...fields };
    out[key] = masked;
  }
  if (out === undefined) return fields;
  // Keep an Error's prototype (pg-protocol's DatabaseError) so `instanceof` still holds.
  return Object.setPrototypeOf(out, Object.getPrototypeOf(fields)) as T;
}

export function maskErrorText(
  view: MaskingPolicyView,
  hints: CatalogHints,
  text: string,
  table: string | undefined,
): string {
  let out = text;
  if (view.hasColumnRules) {
    out = maskKeyValues(view, out, table);
    out = maskFailingRow(view, hints, out, table);
    out = maskCopyContext(view, out, table);
  }
  return view.mayDetectText(out) ? view.maskText(out) : out;
}

const IDENTIFIER = /"((?:[^"]|"")+)"|([A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*)/g;

/** The covered column named in a column list or index expression, if any. */
function coveredIn(view: MaskingPolicyView, columns: string, table: string | undefined): string | undefined {
  for (const m of columns.matchAll(IDENTIFIER)) {
    const name = m[1] !== undefined ? m[1].replace(/""/g, '"') : (m[2] as string);
    if (view.coversColumn(name)) return name;
    if (table !== undefined && view.coversColumn(`${table}.${name}`)) return `${table}.${name}`;
  }
  return undefined;
}

/** `Key (a, b)=(1, x)`: every occurrence, values masked whole when a listed column is covered. */
function maskKeyValues(view: MaskingPolicyView, text: string, table: string | undefined): string {
  let out = '';
  let pos = 0;
  for (let at = text.indexOf(')=(', pos); at !== -1; at = text.indexOf(')=(', pos)) {
    const open = matchingOpen(text, at);
    const valuesStart = at + 3;
    const close = matchingClose(text, valuesStart);
    const column = open === -1 ? undefined : coveredIn(view, text.slice(open + 1, at), table);
    if (column === undefined) {
      out += text.slice(pos, valuesStart);
      pos = valuesStart;
      continue;
    }
    const values = text.slice(valuesStart, close);
    out += text.slice(pos, valuesStart) + view.maskWhole(column, values);
    pos = close;
  }
  return out + text.slice(pos);
}

/** The `(` that `)` at `close` closes, or -1. */
function matchingOpen(text: string, close: number): number {
  let depth = 0;
  for (let i = close; i >= 0; i--) {
    const c = text[i];
    if (c === ')') depth++;
    else if (c === '(' && --depth === 0) return i;
  }
  return -1;
}

/** The `)` closing a parenthesis opened just before `from`; the text's end when there is none. */
function matchingClose(text: string, from: number): number {
  let depth = 1;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  return text.length;
}

const FAILING_ROW = 'Failing row contains (';

function maskFailingRow(
  view: MaskingPolicyView,
  hints: CatalogHints,
  text: string,
  table: string | undefined,
): string {
  const at = text.indexOf(FAILING_ROW);
  if (at === -1) return text;
  const start = at + FAILING_ROW.length;
  // Values are printed without quoting, so the row's last `)` ends it.
  let end = text.lastIndexOf(')');
  if (end < start) end = text.length;
  const known = table === undefined ? undefined : hints.tableColumns?.(table);
  let column: string | undefined;
  if (known !== undefined) {
    column = known.find((c) => view.coversColumn(c) || view.coversColumn(`${table}.${c}`));
    if (column === undefined) return text;
  }
  return text.slice(0, start) + view.maskWhole(column, text.slice(start, end)) + text.slice(end);
}

const COPY_CONTEXT = /(column (.+?): ")(.*)("\s*$)/s;

function maskCopyContext(view: MaskingPolicyView, text: string, table: string | undefined): string {
  if (!text.startsWith('COPY ')) return text;
  const m = COPY_CONTEXT.exec(text);
  if (m === null) return text;
  const column = coveredIn(view, m[2] as string, table);
  if (column === undefined) return text;
  const start = m.index + (m[1] as string).length;
  const value = m[3] as string;
  return text.slice(0, start) + view.maskWhole(column, value) + text.slice(start + value.length);
}

/** Field letters of ErrorResponse/NoticeResponse and the names pg-protocol and ErrorFields use. */
const FIELD_NAMES: Readonly<Record<string, string>> = {
  S: 'severity',
  V: 'severityNonLocalized',
  C: 'code',
  M: 'message',
  D: 'detail',
  H: 'hint',
  P: 'position',
  p: 'internalPosition',
  q: 'internalQuery',
  W: 'where',
  s: 'schema',
  t: 'table',
  c: 'column',
  d: 'dataType',
  n: 'constraint',
  F: 'file',
  L: 'line',
  R: 'routine',
};

/** A raw ErrorResponse ('E') or NoticeResponse ('N'): the same buffer when nothing changed. */
export function maskErrorMessage(view: MaskingPolicyView, hints: CatalogHints, raw: Buffer): Buffer {
  if (raw.length < 6 || (raw[0] !== 0x45 && raw[0] !== 0x4e) || raw.readInt32BE(1) !== raw.length - 1) {
    fail('not an ErrorResponse or NoticeResponse');
  }
  const entries: [string, string][] = [];
  let pos = 5;
  while (pos < raw.length && raw[pos] !== 0) {
    const code = String.fromCharCode(raw[pos] as number);
    const end = raw.indexOf(0, pos + 1);
    if (end === -1) fail('field runs past the end of the message');
    entries.push([code, raw.toString('utf8', pos + 1, end)]);
    pos = end + 1;
  }
  if (pos !== raw.length - 1) fail('missing terminator or bytes after it');
  const byName: Record<string, string> = {};
  for (const [code, value] of entries) byName[FIELD_NAMES[code] ?? `field_${code}`] = value;
  const masked = maskErrorFields(view, hints, byName);
  if (masked === byName) return raw;
  const parts: Buffer[] = [];
  for (const [code, value] of entries) {
    const v = masked[FIELD_NAMES[code] ?? `field_${code}`] ?? value;
    parts.push(Buffer.from(code, 'latin1'), Buffer.from(v.replaceAll('\0', ''), 'utf8'), ZERO);
  }
  parts.push(ZERO);
  const body = Buffer.concat(parts);
  const head = Buffer.allocUnsafe(5);
  head[0] = raw[0] as number;
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

const ZERO = Buffer.from([0]);

function fail(problem: string): never {
  throw new ProtocolError(`ErrorResponse: ${problem}`, { details: { message: 'ErrorResponse' } });
}
