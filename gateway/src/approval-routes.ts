import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, GatewayError, parseDuration } from '@gatehouse/core';
import type { ApprovalScope, ApprovalService, ApprovalState } from '@gatehouse/policy';
import type { AdminRouteSpec } from './admin-api.js';
import { readJsonBody, sendError, sendJson } from './http-util.js';

/** The part of the approvals service the admin API drives. */
export type ApprovalAdmin = Pick<ApprovalService, 'list' | 'get' | 'approve' | 'deny'>;

const STATES: readonly ApprovalState[] = ['pending', 'approved', 'denied', 'expired', 'cancelled'];
const MAX_REASON = 1000;

/**
 * `/api/approvals` for the admin API. Admin-group and approver-group callers may read; deciding is
 * left to the service, which alone knows who may decide what (approver groups, never one's own
 * request, only once), so the HTTP layer cannot drift from the rules the CLI and tests rely on.
 *
 * - `GET  /api/approvals[?state=pending]` → `{ approvals: [...] }`
 * - `GET  /api/approvals/:id` → `{ approval }`
 * - `POST /api/approvals/:id/approve` body `{ reason?, scope?: 'once' | { window: '30m' } }` → `{ approval }`
 * - `POST /api/approvals/:id/deny` body `{ reason? }` → `{ approval }`
 *
 * Errors are `{ error: { code, message } }`: 400 bad_request, 403 forbidden/self_approval,
 * 404 not_found, 409 conflict, 503 log_unavailable (the decision was not recorded, so not applied).
 */
export function approvalRoutes(service: ApprovalAdmin, approverGroups: readonly string[]): AdminRouteSpec[] {
  const groups = [...approverGroups];
  const id = '([A-Za-z0-9_-]{1,64})';
  return [
    {
      method: 'GET',
      pattern: /^\/api\/approvals$/,
      groups,
      handler: (_req, res, { url }) => {
        const state = url.searchParams.get('state');
        if (state !== null && !isState(state)) {
          return sendError(res, 400, 'bad_request', `state must be one of ${STATES.join(', ')}`);
        }
        sendJson(res, 200, { approvals: service.list(state === null ? {} : { state }) });
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/api/approvals/${id}$`),
      groups,
      handler: (_req, res, { match }) => {
        const approval = service.get(match[1] as string);
        if (approval === undefined)
          return sendError(res, 404, 'not_found', `no approval request ${match[1]}`);
        sendJson(res, 200, { approval });
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/api/approvals/${id}/approve$`),
      groups,
      handler: async (req, res, { caller, match }) => {
        const body = await decisionBody(req, res, true);
        if (body === undefined) return;
        await answer(res, () => service.approve(match[1] as string, caller, body));
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/api/approvals/${id}/deny$`),
      groups,
      handler: async (req, res, { caller, match }) => {
        const body = await decisionBody(req, res, false);
        if (body === undefined) return;
        await answer(res, () => service.deny(match[1] as string, caller, body));
      },
    },
  ];
}

function isState(value: string): value is ApprovalState {
  return (STATES as readonly string[]).includes(value);
}

async function answer(res: ServerResponse, decide: () => Promise<unknown>): Promise<void> {
  try {
    sendJson(res, 200, { approval: await decide() });
  } catch (err) {
    const mapped = errorStatus(err);
    if (mapped === undefined) throw err;
    sendError(res, mapped[0], mapped[1], (err as Error).message);
  }
}

/** The service's typed errors carry their kind in `details`, so no policy class is needed here. */
function errorStatus(err: unknown): [number, string] | undefined {
  if (!(err instanceof GatewayError)) return undefined;
  if (err.code === ErrorCode.LogUnavailable) return [503, 'log_unavailable'];
  switch (err.details['kind']) {
    case 'not_found':
      return [404, 'not_found'];
    case 'forbidden':
      return [403, 'forbidden'];
    case 'self_approval':
      return [403, 'self_approval'];
    case 'conflict':
      return [409, 'conflict'];
    case 'invalid':
      return [400, 'bad_request'];
    default:
      return undefined;
  }
}

interface DecisionBody {
  reason?: string;
  scope?: ApprovalScope;
}

/** Parses and checks the decision body; on a bad one, answers 400/413 and returns undefined. */
async function decisionBody(
  req: IncomingMessage,
  res: ServerResponse,
  allowScope: boolean,
): Promise<DecisionBody | undefined> {
  let raw: unknown;
  try {
    raw = await readJsonBody(req, 16 * 1024);
  } catch (err) {
    if (err instanceof RangeError) sendError(res, 413, 'too_large', 'request body too large');
    else sendError(res, 400, 'bad_request', 'request body must be a JSON object');
    return undefined;
  }
  const parsed = parseDecision(raw, allowScope);
  if (typeof parsed === 'string') {
    sendError(res, 400, 'bad_request', parsed);
    return undefined;
  }
  return parsed;
}

/** A decision body, or what is wrong with it. Unknown keys are refused so typos do not pass silently. */
export function parseDecision(raw: unknown, allowScope: boolean): DecisionBody | string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return 'request body must be a JSON object';
  const body = raw as Record<string, unknown>;
  const allowed = allowScope ? ['reason', 'scope'] : ['reason'];
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) return `unknown field(s): ${unknown.join(', ')}; expected ${allowed.join(', ')}`;
  const out: DecisionBody = {};
  if (body['reason'] !== undefined) {
    if (typeof body['reason'] !== 'string') return 'reason must be a string';
    const reason = body['reason'].trim();
    if (reason.length > MAX_REASON) return `reason must be at most ${MAX_REASON} characters`;
    if (reason !== '') out.reason = reason;
  }
  const scope = body['scope'];
  if (scope === undefined || scope === 'once') return out;
  const window =
    typeof scope === 'object' && scope !== null && !Array.isArray(scope) && Object.keys(scope).length === 1
      ? (scope as Record<string, unknown>)['window']
      : undefined;
  if (typeof window !== 'string') return `scope must be "once" or { "window": "30m" }`;
  const durationMs = parseDuration(window);
  if (durationMs === undefined || durationMs <= 0) return `scope.window must be a duration such as 30m or 1h`;
  out.scope = { kind: 'window', durationMs };
  return out;
}
