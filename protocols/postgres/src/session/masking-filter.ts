import type { Masker } from '@gatehouse/core';
import {
  type CopyMasker,
  createResultMasker,
  type LineageAnalyzer,
  OPAQUE_LINEAGE,
  type ResultMaskerOptions,
  type RowMasker,
  type StatementLineage,
} from '../masking/index.js';
import { Backend, commandTag, copyFormat } from '../upstream/backend-messages.js';
import { noticeResponse } from '../wire/index.js';
import type { BackendMessageFilter, ResultContext } from './result-filter.js';

interface RunMasking {
  /** Lineage of each statement of the run's text, computed on first need. */
  lineage: readonly StatementLineage[] | undefined;
  rows: RowMasker | undefined;
  /** The statement and fields `rows` was started for. */
  rowsIndex: number;
  rowsFields: unknown;
  copy: CopyMasker | undefined;
}

const HOLD = Buffer.alloc(0);
const NO_COLUMNS: StatementLineage = Object.freeze({ columns: undefined, opaque: false });

/**
 * Result masking (protocols/postgres/src/masking) wired into the relay: one per connection. A
 * result set gets a RowMasker from its RowDescription and the lineage of the statement producing
 * it; COPY OUT a CopyMasker; errors, notices and notifications go through the detectors. Lineage
 * of cursors and statements prepared by SQL (DECLARE, PREPARE) is kept for FETCH and EXECUTE.
 */
export function resultMaskingFilter(
  masker: Masker,
  lineage: LineageAnalyzer,
  options: ResultMaskerOptions = {},
): BackendMessageFilter {
  const results = createResultMasker(masker, options);
  // Without column rules, lineage cannot change what is masked: skip the parse it costs.
  const needsLineage = (masker as { readonly hasColumnRules?: boolean }).hasColumnRules !== false;
  const runs = new WeakMap<ResultContext, RunMasking>();
  const named = new Map<string, StatementLineage>();

  const stateOf = (ctx: ResultContext): RunMasking => {
    let state = runs.get(ctx);
    if (state === undefined) {
      state = { lineage: undefined, rows: undefined, rowsIndex: -1, rowsFields: undefined, copy: undefined };
      runs.set(ctx, state);
    }
    return state;
  };

  const lineageOf = (ctx: ResultContext, state: RunMasking, always = false): StatementLineage => {
    if (ctx.sql === undefined) return OPAQUE_LINEAGE;
    if (!needsLineage && !always) return NO_COLUMNS;
    state.lineage ??= lineage.analyze(ctx.sql, ctx.shape) ?? [];
    const own = state.lineage[ctx.statementIndex];
    if (own === undefined) return OPAQUE_LINEAGE;
    if (own.uses !== undefined)
      return named.get(`${own.uses.kind}:${own.uses.name}`) ?? { ...own, columns: undefined };
    return own;
  };

  return {
    filter(code, raw, ctx) {
      switch (code) {
        case Backend.DataRow: {
          const state = stateOf(ctx);
          if (
            state.rows === undefined ||
            state.rowsIndex !== ctx.statementIndex ||
            state.rowsFields !== ctx.fields
          ) {
            state.rows = results.startResult(ctx.fields, lineageOf(ctx, state));
            state.rowsIndex = ctx.statementIndex;
            state.rowsFields = ctx.fields;
          }
          return state.rows.active ? state.rows.maskDataRow(raw) : raw;
        }
        case Backend.CommandComplete:
        case Backend.PortalSuspended: {
          const state = runs.get(ctx);
          if (state === undefined) return declares(ctx, raw);
          const notice = state.rows?.notice();
          state.rows = undefined;
          const out = declares(ctx, raw);
          return notice === undefined ? out : Buffer.concat([noticeResponse(notice), out]);
        }
        case Backend.CopyOutResponse: {
          const state = stateOf(ctx);
          // COPY's lineage also carries its format options (CSV quoting), needed with or without column rules.
          const own = lineageOf(ctx, state, true);
          state.copy = results.startCopy({ format: copyFormat(raw), options: own.copy }, { lineage: own });
          return raw;
        }
        case Backend.CopyData: {
          const copy = runs.get(ctx)?.copy;
          if (copy === undefined) return raw;
          return results.maskCopyData(raw, copy) ?? HOLD;
        }
        case Backend.CopyDone: {
          const state = runs.get(ctx);
          const rest = state?.copy?.finish();
          if (state !== undefined) state.copy = undefined;
          return rest === undefined ? raw : Buffer.concat([rest, raw]);
        }
        case Backend.ErrorResponse:
        case Backend.NoticeResponse:
          return results.maskErrorMessage(raw);
        case Backend.NotificationResponse:
          return maskNotification(raw, (p) => results.maskNotification(p));
        default:
          return raw;
      }
    },
  };

  /** DECLARE and PREPARE completed: remember what their cursor or statement returns. */
  function declares(ctx: ResultContext, raw: Buffer): Buffer {
    // Cheap first look: only DECLARE CURSOR and PREPARE tags matter here.
    if (raw[0] !== Backend.CommandComplete || (raw[5] !== 0x44 && raw[5] !== 0x50)) return raw;
    const tag = commandTag(raw);
    if (tag !== 'DECLARE CURSOR' && tag !== 'PREPARE') return raw;
    const state = stateOf(ctx);
    const own = lineageOf(ctx, state);
    if (own.declares !== undefined) named.set(`${own.declares.kind}:${own.declares.name}`, own);
    return raw;
  }
}

function maskNotification(raw: Buffer, mask: (payload: string) => string): Buffer {
  const channelEnd = raw.indexOf(0, 9);
  const payloadEnd = channelEnd < 0 ? -1 : raw.indexOf(0, channelEnd + 1);
  if (payloadEnd < 0) return raw;
  const payload = raw.toString('utf8', channelEnd + 1, payloadEnd);
  const masked = mask(payload);
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
