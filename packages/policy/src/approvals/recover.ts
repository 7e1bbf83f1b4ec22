import { EventType, type StoredEvent } from '@gatehouse/core';
import type { ApprovalRequest } from './approval-types.js';

const TERMINAL = new Set(['approved', 'denied', 'expired', 'cancelled']);

export interface UnfinishedRequest {
  readonly id: string;
  readonly sessionId: string;
  /** The request as logged when it was created, when the event carried it. */
  readonly request?: ApprovalRequest | undefined;
}

/**
 * Requests the log shows as `requested` but never as approved, denied, expired or cancelled: the
 * gateway stopped while they were held. Events may come in any order and from any sessions; events
 * of other types are ignored.
 */
export function unfinishedRequests(events: Iterable<StoredEvent>): UnfinishedRequest[] {
  const requested = new Map<string, UnfinishedRequest>();
  const finished = new Set<string>();
  for (const event of events) {
    if (event.type !== EventType.Approval) continue;
    const { state, id, request } = event.data;
    if (typeof id !== 'string') continue;
    if (state === 'requested') {
      requested.set(id, {
        id,
        sessionId: event.sessionId,
        request: isRequest(request) ? request : undefined,
      });
    } else if (typeof state === 'string' && TERMINAL.has(state)) {
      finished.add(id);
    }
  }
  return [...requested.values()].filter((r) => !finished.has(r.id));
}

function isRequest(value: unknown): value is ApprovalRequest {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v['id'] === 'string' && typeof v['command'] === 'object' && v['command'] !== null;
}
