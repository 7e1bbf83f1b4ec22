import { ProtocolError } from '@gatehouse/core';
import { readRowDescription } from '../masking/index.js';
import { BackendFramer } from '../upstream/backend-framer.js';
import {
  Backend,
  commandTag,
  copyFormat,
  readFields,
  readParameterStatus,
  readyForQueryStatus,
  rowsFromTag,
} from '../upstream/backend-messages.js';
import type { Pending, ResultRun } from './pending.js';
import type { RelayState } from './relay-state.js';
import { NO_RESULT } from './result-filter.js';

/** Raised when the upstream starts reading SQL differently from the gateway's parser. */
export class UnsafeSettingError extends ProtocolError {
  constructor(message: string) {
    super(message);
    this.name = 'UnsafeSettingError';
  }
}

/**
 * The upstream → client direction. Each message is matched against the answer the client is owed
 * (the head of the pending queue) to know which statement it belongs to, then passes through the
 * result filter and is written; messages the filter leaves alone are written as the bytes received.
 */
export class BackendRelay {
  readonly #state: RelayState;
  readonly #framer = new BackendFramer();
  readonly #sink = (code: number, raw: Buffer) => this.#message(code, raw);

  constructor(state: RelayState) {
    this.#state = state;
  }

  /** Handles one chunk from the upstream; throws a ProtocolError when the upstream is out of step. */
  push(chunk: Buffer): void {
    try {
      this.#framer.push(chunk, this.#sink);
    } finally {
      this.#state.flushClient();
    }
  }

  #message(code: number, raw: Buffer): void {
    const state = this.#state;
    const head = state.pending.peek();
    switch (code) {
      case Backend.DataRow: {
        const run = runOf(head);
        if (run !== undefined) {
          run.rows++;
          run.bytes += raw.length;
          // Rows of an Execute are described by the portal's Describe (the client's or ours).
          if (run.fields === undefined && head?.kind === 'execute') run.fields = head.portal?.fields;
        }
        this.#forward(code, raw, run);
        return;
      }
      case Backend.CommandComplete:
      case Backend.EmptyQueryResponse:
      case Backend.PortalSuspended:
        this.#completion(code, raw, head);
        return;
      case Backend.RowDescription:
      case Backend.NoData:
        this.#description(code, raw, head);
        return;
      case Backend.ReadyForQuery: {
        if (head?.kind !== 'query' && head?.kind !== 'sync') throw outOfStep('ReadyForQuery', head);
        state.status = readyForQueryStatus(raw);
        state.pending.shift();
        // PREPAREs of statements that did not complete never happened.
        if (head.kind === 'query') state.withdrawPrepared(head.run, head.run.statementIndex);
        this.#forward(code, raw, undefined);
        state.answerOwn();
        return;
      }
      case Backend.ErrorResponse:
        this.#error(raw, head);
        return;
      case Backend.ParseComplete:
        if (head?.kind !== 'parse') throw outOfStep('ParseComplete', head);
        state.pending.shift();
        state.prepared.confirm(head.name, head.candidate);
        this.#forward(code, raw, undefined);
        state.answerOwn();
        return;
      case Backend.BindComplete:
        this.#simple(code, raw, head, 'bind');
        return;
      case Backend.CloseComplete: {
        if (head?.kind !== 'close') throw outOfStep('CloseComplete', head);
        if (head.target === 'statement') state.prepared.drop(head.name);
        else state.portals.delete(head.name);
        this.#simple(code, raw, head, 'close');
        return;
      }
      case Backend.ParameterDescription:
        if (head?.kind !== 'describe') throw outOfStep('ParameterDescription', head);
        this.#forward(code, raw, undefined);
        return;
      case Backend.CopyInResponse:
      case Backend.CopyOutResponse: {
        const run = runOf(head);
        if (run === undefined) throw outOfStep('a COPY response', head);
        run.copyFormat = code === Backend.CopyOutResponse ? copyFormat(raw) : undefined;
        this.#forward(code, raw, run);
        return;
      }
      case Backend.CopyData: {
        const run = runOf(head);
        if (run !== undefined) run.bytes += raw.length - 5;
        this.#forward(code, raw, run);
        return;
      }
      case Backend.CopyDone: {
        const run = runOf(head);
        this.#forward(code, raw, run);
        if (run !== undefined) run.copyFormat = undefined;
        return;
      }
      case Backend.ParameterStatus:
        checkSetting(raw);
        this.#forward(code, raw, undefined);
        return;
      case Backend.NoticeResponse:
      case Backend.NotificationResponse:
      case Backend.FunctionCallResponse:
        this.#forward(code, raw, runOf(head));
        return;
      case Backend.CopyBothResponse:
        throw new ProtocolError(
          'the upstream started a COPY BOTH (replication) exchange, which the gateway does not relay',
        );
      default:
        throw new ProtocolError(
          `the upstream sent a message of type '${String.fromCharCode(code)}' the gateway does not relay`,
        );
    }
  }

  #forward(code: number, raw: Buffer, run: ResultRun | undefined): void {
    this.#state.clientOut.push(this.#state.filter.filter(code, raw, run ?? NO_RESULT));
  }

  #simple(code: number, raw: Buffer, head: Pending | undefined, kind: Pending['kind']): void {
    if (head?.kind !== kind) throw outOfStep(kind, head);
    this.#state.pending.shift();
    this.#forward(code, raw, undefined);
    this.#state.answerOwn();
  }

  #completion(code: number, raw: Buffer, head: Pending | undefined): void {
    const state = this.#state;
    const tag =
      code === Backend.CommandComplete
        ? commandTag(raw)
        : code === Backend.EmptyQueryResponse
          ? 'EMPTY'
          : 'SUSPENDED';
    if (head?.kind === 'query') {
      const run = head.run;
      const rows = code === Backend.CommandComplete ? rowsFromTag(tag) : undefined;
      if (rows !== undefined) run.rows = rows;
      this.#forward(code, raw, run);
      state.logResult(run, { status: 'ok', summary: tag });
      this.#applyStatementEffects(run, run.statementIndex);
      run.next();
      return;
    }
    if (head?.kind !== 'execute') throw outOfStep('a command completion', head);
    const run = head.run;
    const rows = code === Backend.CommandComplete ? rowsFromTag(tag) : undefined;
    if (rows !== undefined) run.rows = rows;
    state.pending.shift();
    this.#forward(code, raw, run);
    state.logResult(run, { status: 'ok', summary: tag });
    if (code === Backend.CommandComplete) this.#applyStatementEffects(run, 0);
    state.answerOwn();
  }

  #description(code: number, raw: Buffer, head: Pending | undefined): void {
    const state = this.#state;
    if (head?.kind === 'query') {
      if (code === Backend.RowDescription) head.run.fields = readRowDescription(raw);
      this.#forward(code, raw, head.run);
      return;
    }
    if (head?.kind !== 'describe') throw outOfStep('RowDescription or NoData', head);
    state.pending.shift();
    const fields = code === Backend.RowDescription ? readRowDescription(raw) : [];
    if (head.portal !== undefined) head.portal.fields = fields;
    if (!head.internal) this.#forward(code, raw, undefined);
    state.answerOwn();
  }

  #error(raw: Buffer, head: Pending | undefined): void {
    const state = this.#state;
    const fields = readFields(raw);
    const severity = fields.get('V') ?? fields.get('S') ?? 'ERROR';
    const error = { code: fields.get('C') ?? 'XX000', message: fields.get('M') ?? '' };
    if (head === undefined || head.kind === 'sync' || severity === 'FATAL' || severity === 'PANIC') {
      // Not tied to one statement: a failed commit at Sync, or the server ending the session.
      if (severity === 'FATAL' || severity === 'PANIC') state.fatalSent = `${error.code} ${error.message}`;
      this.#forward(Backend.ErrorResponse, raw, undefined);
      return;
    }
    switch (head.kind) {
      case 'query':
        state.logResult(head.run, {
          status: 'error',
          summary: 'ERROR',
          error: { ...error, message: maskedMessage(state, error.message) },
        });
        this.#forward(Backend.ErrorResponse, raw, head.run);
        return;
      case 'swallow-error':
        state.pending.shift();
        state.clientOut.push(head.replacement);
        state.skipToSync();
        return;
      case 'execute':
        state.logResult(head.run, {
          status: 'error',
          summary: 'ERROR',
          error: { ...error, message: maskedMessage(state, error.message) },
        });
        state.withdrawPrepared(head.run, 0);
        break;
      case 'parse':
        state.prepared.withdraw(head.name, head.candidate);
        break;
      case 'reply':
        // Replies are written as soon as they reach the head; one cannot be waiting there.
        throw outOfStep('ErrorResponse', head);
      default:
        break;
    }
    state.pending.shift();
    this.#forward(Backend.ErrorResponse, raw, head.kind === 'execute' ? head.run : undefined);
    state.skipToSync();
  }

  /** Applies what a completed statement did to prepared statements (PREPARE, DEALLOCATE, DISCARD ALL). */
  #applyStatementEffects(run: ResultRun, index: number): void {
    const extras = run.extras;
    if (extras === undefined) return;
    const prepared = this.#state.prepared;
    for (const d of extras.deallocates) {
      if (d.index !== index) continue;
      if (d.name === '*') prepared.dropAllNamed();
      else prepared.drop(d.name);
    }
    for (const p of extras.prepares) {
      if (p.index !== index) continue;
      const candidate = run.preparedCandidates?.get(p.index);
      if (candidate !== undefined) prepared.confirm(p.name, candidate);
    }
  }
}

function runOf(head: Pending | undefined): ResultRun | undefined {
  return head?.kind === 'query' || head?.kind === 'execute' ? head.run : undefined;
}

function outOfStep(what: string, head: Pending | undefined): ProtocolError {
  return new ProtocolError(
    `the upstream answered out of step: ${what} while ${head === undefined ? 'nothing' : `a ${head.kind} answer`} was due`,
  );
}

function maskedMessage(state: RelayState, message: string): string {
  try {
    return state.session.masker().maskText(message);
  } catch {
    return message;
  }
}

/** The gateway parses SQL as UTF-8 with standard-conforming strings; the server must keep doing so. */
function checkSetting(raw: Buffer): void {
  const { name, value } = readParameterStatus(raw);
  if (name === 'client_encoding' && value.toUpperCase() !== 'UTF8') {
    throw new UnsafeSettingError(
      `the upstream session's client_encoding became ${value}; the gateway only relays UTF8`,
    );
  }
  if (name === 'standard_conforming_strings' && value !== 'on') {
    throw new UnsafeSettingError(
      'the upstream session turned standard_conforming_strings off; the gateway cannot judge SQL read that way',
    );
  }
}
