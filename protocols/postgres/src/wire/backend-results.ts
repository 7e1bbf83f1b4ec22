import { BackendCode, type FormatCode } from './codes.js';
import { MessageWriter } from './message-writer.js';

/**
 * Server messages of the query cycle (simple and extended protocol). Fixed messages are shared
 * buffers: write them to a socket, never mutate them.
 */

function empty(code: number): Buffer {
  return new MessageWriter(5).start(code).finish();
}

const PARSE_COMPLETE = empty(BackendCode.ParseComplete);
const BIND_COMPLETE = empty(BackendCode.BindComplete);
const CLOSE_COMPLETE = empty(BackendCode.CloseComplete);
const NO_DATA = empty(BackendCode.NoData);
const PORTAL_SUSPENDED = empty(BackendCode.PortalSuspended);
const EMPTY_QUERY_RESPONSE = empty(BackendCode.EmptyQueryResponse);

export function parseComplete(): Buffer {
  return PARSE_COMPLETE;
}

export function bindComplete(): Buffer {
  return BIND_COMPLETE;
}

export function closeComplete(): Buffer {
  return CLOSE_COMPLETE;
}

export function noData(): Buffer {
  return NO_DATA;
}

export function portalSuspended(): Buffer {
  return PORTAL_SUSPENDED;
}

export function emptyQueryResponse(): Buffer {
  return EMPTY_QUERY_RESPONSE;
}

/** I: idle, T: in a transaction block, E: in a failed transaction block. */
export type TransactionStatus = 'I' | 'T' | 'E';

const READY: Readonly<Record<TransactionStatus, Buffer>> = {
  I: new MessageWriter(6).start(BackendCode.ReadyForQuery).byte(0x49).finish(),
  T: new MessageWriter(6).start(BackendCode.ReadyForQuery).byte(0x54).finish(),
  E: new MessageWriter(6).start(BackendCode.ReadyForQuery).byte(0x45).finish(),
};

export function readyForQuery(status: TransactionStatus): Buffer {
  return READY[status];
}

/** A command tag such as `SELECT 3`, `INSERT 0 1` or `BEGIN`. */
export function commandComplete(tag: string): Buffer {
  return new MessageWriter(tag.length + 6)
    .start(BackendCode.CommandComplete)
    .cstring(tag, 'command tag')
    .finish();
}

export interface RowField {
  readonly name: string;
  /** OID of the table the column comes from, or 0. */
  readonly tableOid?: number;
  /** Attribute number of the column in that table, or 0. */
  readonly columnAttr?: number;
  readonly typeOid: number;
  /** pg_type.typlen: negative for variable width. Default -1. */
  readonly typeSize?: number;
  /** pg_attribute.atttypmod; -1 when not applicable (default). */
  readonly typeModifier?: number;
  /** Default 0 (text). */
  readonly format?: FormatCode;
}

export function rowDescription(fields: readonly RowField[]): Buffer {
  const w = new MessageWriter(7 + fields.length * 32).start(BackendCode.RowDescription).uint16(fields.length);
  for (const f of fields) {
    w.cstring(f.name, 'column name')
      .uint32(f.tableOid ?? 0)
      .int16(f.columnAttr ?? 0)
      .uint32(f.typeOid)
      .int16(f.typeSize ?? -1)
      .int32(f.typeModifier ?? -1)
      .int16(f.format ?? 0);
  }
  return w.finish();
}

/** Parameter type OIDs of a prepared statement, answering Describe of a statement. */
export function parameterDescription(typeOids: readonly number[]): Buffer {
  const w = new MessageWriter(7 + typeOids.length * 4)
    .start(BackendCode.ParameterDescription)
    .uint16(typeOids.length);
  for (const oid of typeOids) w.uint32(oid);
  return w.finish();
}

/** A LISTEN/NOTIFY notification from the backend process `processId`. */
export function notificationResponse(processId: number, channel: string, payload: string): Buffer {
  return new MessageWriter(channel.length + payload.length + 16)
    .start(BackendCode.NotificationResponse)
    .int32(processId)
    .cstring(channel, 'channel name')
    .cstring(payload, 'notification payload')
    .finish();
}

/** The result of a FunctionCall; null is SQL NULL. */
export function functionCallResponse(value: Uint8Array | null): Buffer {
  return new MessageWriter(9 + (value?.length ?? 0))
    .start(BackendCode.FunctionCallResponse)
    .value(value)
    .finish();
}
