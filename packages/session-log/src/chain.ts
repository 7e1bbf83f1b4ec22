import { hash } from 'node:crypto';
import { type EventInput, EventType, LogWriteError, type StoredEvent } from '@gatehouse/core';
import { canonicalJsonOfSorted, type JsonObject, toCanonicalObject, toJsonObject } from './canonical-json.js';
import { secretRedaction } from './redact.js';

/** `prev_hash` of event 1. */
export const GENESIS_HASH = '0'.repeat(64);

const EVENT_TYPES: ReadonlySet<string> = new Set(Object.values(EventType));

/** A hook the operator may set to rewrite every event's data before it is hashed and stored. */
export type RedactHook = (data: Readonly<Record<string, unknown>>) => Readonly<Record<string, unknown>>;

/** An event ready to be chained: redacted, normalised, its data already in canonical text. */
export interface PreparedEvent {
  readonly ts: number;
  readonly sessionId: string;
  readonly type: EventType;
  readonly data: JsonObject;
  readonly dataJson: string;
}

/**
 * The text that is hashed: the canonical JSON of the array
 * `[seq, ts, session_id, type, data, prev_hash]`, with `dataJson` (already canonical) inlined.
 */
export function chainText(
  seq: number,
  ts: number,
  sessionId: string,
  type: string,
  dataJson: string,
  prevHash: string,
): string {
  return `[${seq},${ts},${JSON.stringify(sessionId)},${JSON.stringify(type)},${dataJson},${JSON.stringify(prevHash)}]`;
}

export function eventHash(
  seq: number,
  ts: number,
  sessionId: string,
  type: string,
  dataJson: string,
  prevHash: string,
): string {
  // The one-shot hash costs about half of createHash().update().digest() on short texts.
  return hash('sha256', chainText(seq, ts, sessionId, type, dataJson, prevHash), 'hex');
}

/**
 * Validates and redacts one event. Throws a LogWriteError naming what is wrong, so a bad event is
 * refused like any other event that cannot be recorded.
 */
export function prepareEvent(input: EventInput, ts: number, hook: RedactHook | undefined): PreparedEvent {
  if (typeof input.sessionId !== 'string' || input.sessionId === '') {
    throw new LogWriteError('cannot record event: sessionId must be a non-empty string');
  }
  if (!EVENT_TYPES.has(input.type)) {
    throw new LogWriteError(`cannot record event: unknown event type ${JSON.stringify(input.type)}`);
  }
  if (!Number.isSafeInteger(ts)) {
    throw new LogWriteError('cannot record event: the clock returned an invalid time');
  }
  let data: JsonObject;
  let dataJson: string;
  try {
    const hooked = hook === undefined ? input.data : hook(input.data);
    // Most events hold no secret: build the canonical form once, and only when a secret shows up
    // in its text build it again with every string (value and key) passed through the redactor.
    ({ tree: data, text: dataJson } = toCanonicalObject(hooked));
    const secrets = secretRedaction(input.secrets);
    if (secrets?.mayOccurIn(dataJson)) {
      data = toJsonObject(hooked, secrets.redact);
      dataJson = canonicalJsonOfSorted(data);
    }
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new LogWriteError(`cannot record ${input.type} event: ${why}`, { cause: err });
  }
  return { ts, sessionId: input.sessionId, type: input.type, data, dataJson };
}

/** Links a prepared event to the chain head. */
export function chainEvent(event: PreparedEvent, seq: number, prevHash: string): StoredEvent {
  return {
    seq,
    ts: event.ts,
    sessionId: event.sessionId,
    type: event.type,
    data: event.data,
    prevHash,
    hash: eventHash(seq, event.ts, event.sessionId, event.type, event.dataJson, prevHash),
  };
}
