import { BackendCode } from './codes.js';
import { MessageWriter } from './message-writer.js';

export type ErrorSeverity = 'ERROR' | 'FATAL' | 'PANIC';
export type NoticeSeverity = 'WARNING' | 'NOTICE' | 'DEBUG' | 'INFO' | 'LOG';

/**
 * The fields of an ErrorResponse or NoticeResponse by name. Field letters and meanings are those of
 * the protocol's "Error and Notice Message Fields"; numbers are sent as decimal text.
 */
export interface ErrorFields<S extends string = ErrorSeverity | NoticeSeverity> {
  /** S: possibly localised severity. */
  readonly severity: S;
  /** V: the severity never localised; defaults to `severity`. */
  readonly severityNonLocalized?: S;
  /** C: SQLSTATE, five characters. */
  readonly code: string;
  /** M: the primary message. */
  readonly message: string;
  /** D */
  readonly detail?: string;
  /** H */
  readonly hint?: string;
  /** P: 1-based character index into the query string. */
  readonly position?: number | string;
  /** p: like position, into `internalQuery`. */
  readonly internalPosition?: number | string;
  /** q */
  readonly internalQuery?: string;
  /** W: call-stack context. */
  readonly where?: string;
  /** s */
  readonly schema?: string;
  /** t */
  readonly table?: string;
  /** c */
  readonly column?: string;
  /** d */
  readonly dataType?: string;
  /** n */
  readonly constraint?: string;
  /** F */
  readonly file?: string;
  /** L */
  readonly line?: number | string;
  /** R */
  readonly routine?: string;
}

/** Wire order: the order PostgreSQL itself sends fields in, so output is stable and familiar. */
const FIELD_LETTERS: readonly (readonly [keyof ErrorFields, number])[] = [
  ['severity', 0x53], // S
  ['severityNonLocalized', 0x56], // V
  ['code', 0x43], // C
  ['message', 0x4d], // M
  ['detail', 0x44], // D
  ['hint', 0x48], // H
  ['position', 0x50], // P
  ['internalPosition', 0x70], // p
  ['internalQuery', 0x71], // q
  ['where', 0x57], // W
  ['schema', 0x73], // s
  ['table', 0x74], // t
  ['column', 0x63], // c
  ['dataType', 0x64], // d
  ['constraint', 0x6e], // n
  ['file', 0x46], // F
  ['line', 0x4c], // L
  ['routine', 0x52], // R
];

export function errorResponse(fields: ErrorFields<ErrorSeverity>): Buffer {
  return encode(BackendCode.ErrorResponse, fields);
}

export function noticeResponse(fields: ErrorFields<NoticeSeverity>): Buffer {
  return encode(BackendCode.NoticeResponse, fields);
}

function encode(code: number, fields: ErrorFields): Buffer {
  const w = new MessageWriter(128 + fields.message.length).start(code);
  for (const [key, letter] of FIELD_LETTERS) {
    const v = key === 'severityNonLocalized' ? (fields.severityNonLocalized ?? fields.severity) : fields[key];
    if (v === undefined) continue;
    // Values often quote client input (a bad identifier, a query); a NUL there would cut the field
    // short and shift every following field, so NULs are dropped rather than refused.
    w.byte(letter).cstring(String(v).replaceAll('\0', ''), key);
  }
  return w.byte(0).finish();
}
