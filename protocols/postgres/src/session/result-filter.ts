import type { Masker } from '@gatehouse/core';
import type { SqlStatementFacts } from '@gatehouse/policy';
import { Backend, type FieldDescription, readFields, writeFields } from '../upstream/backend-messages.js';
import { copyData, rewriteDataRow } from '../wire/index.js';

/** What is known about the results a backend message belongs to. */
export interface ResultContext {
  /** Columns of the rows being relayed (the RowDescription), when known. */
  readonly fields: readonly FieldDescription[] | undefined;
  /** Inside COPY OUT: 0 for text, 1 for binary; undefined otherwise. */
  readonly copyFormat: number | undefined;
  /** The (redacted) SQL text producing these results, for lineage; undefined when not known. */
  readonly sql: string | undefined;
  /** Facts of the statements of that text, and which of them is running. */
  readonly statements: readonly SqlStatementFacts[] | undefined;
  readonly statementIndex: number;
}

export const NO_RESULT: ResultContext = {
  fields: undefined,
  copyFormat: undefined,
  sql: undefined,
  statements: undefined,
  statementIndex: 0,
};

/**
 * The one function every upstream message passes through before it reaches the client: DataRow,
 * CopyData (COPY OUT), ErrorResponse, NoticeResponse, NotificationResponse, RowDescription and all
 * others. Returns `raw` itself when the message is unchanged (it is then forwarded as received),
 * or the rebuilt message.
 */
export interface BackendMessageFilter {
  filter(code: number, raw: Buffer, context: ResultContext): Buffer;
}

/** Types whose binary form is their text in UTF-8: text, varchar, bpchar, name, json, xml, unknown. */
const TEXT_BINARY_TYPES = new Set([25, 1043, 1042, 19, 114, 142, 705]);
/** Fields of errors and notices that can quote data: message, detail, hint, context, internal query. */
const DATA_FIELDS = ['M', 'D', 'H', 'W', 'q'];

/**
 * Minimal masking until the result masker (protocols/postgres/src/masking) is wired in: every
 * text value of a DataRow goes through `maskValue(column name, text)` (named-column rules by the
 * result column's name, then detectors), text COPY OUT data and error/notice/notification texts
 * through the detectors. Not covered: lineage (a masked column renamed or transformed by the
 * query), binary values of non-text types, binary COPY.
 */
export function stopgapFilter(masker: Masker): BackendMessageFilter {
  return {
    filter(code, raw, context) {
      switch (code) {
        case Backend.DataRow: {
          const fields = context.fields;
          return rewriteDataRow(raw, (value, i) => {
            if (value === null) return undefined;
            const f = fields?.[i];
            if (f !== undefined && f.format !== 0 && !TEXT_BINARY_TYPES.has(f.typeOid)) return undefined;
            const text = value.toString('utf8');
            const masked = masker.maskValue(f?.name, text);
            return masked === text ? undefined : masked;
          });
        }
        case Backend.CopyData: {
          if (context.copyFormat !== 0) return raw;
          const text = raw.toString('utf8', 5);
          const masked = masker.maskText(text);
          return masked === text ? raw : copyData(Buffer.from(masked, 'utf8'));
        }
        case Backend.ErrorResponse:
        case Backend.NoticeResponse: {
          const fields = readFields(raw);
          let changed = false;
          for (const letter of DATA_FIELDS) {
            const v = fields.get(letter);
            if (v === undefined) continue;
            const masked = masker.maskText(v);
            if (masked !== v) {
              fields.set(letter, masked);
              changed = true;
            }
          }
          return changed ? writeFields(code, fields) : raw;
        }
        case Backend.NotificationResponse:
          return maskNotification(raw, masker);
        default:
          return raw;
      }
    },
  };
}

function maskNotification(raw: Buffer, masker: Masker): Buffer {
  const channelEnd = raw.indexOf(0, 9);
  const payloadEnd = channelEnd < 0 ? -1 : raw.indexOf(0, channelEnd + 1);
  if (payloadEnd < 0) return raw;
  const payload = raw.toString('utf8', channelEnd + 1, payloadEnd);
  const masked = masker.maskText(payload);
  if (masked === payload) return raw;
  const head = raw.subarray(5, channelEnd + 1);
  const body = Buffer.from(masked, 'utf8');
  const out = Buffer.allocUnsafe(5 + head.length + body.length + 1);
  out[0] = Backend.NotificationResponse;
  out.writeInt32BE(out.length - 1, 1);
  head.copy(out, 5);
  body.copy(out, 5 + head.length);
  out[out.length - 1] = 0;
  return out;
}
