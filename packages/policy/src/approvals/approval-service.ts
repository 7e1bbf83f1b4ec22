import {
  type ApprovalBroker,
  type ApprovalOutcome,
  type ApprovalRequestInput,
  type Clock,
  ErrorCode,
  formatDuration,
  GatewayError,
  type Identity,
  type Logger,
  type SessionLogWriter,
  type StoredEvent,
  systemClock,
} from '@gatehouse/core';
import { ApprovalError } from './approval-error.js';
import { newApprovalId, newGrantId } from './approval-id.js';
import { ApprovalJournal } from './approval-journal.js';
import type {
  ApprovalListFilter,
  ApprovalRequest,
  ApprovalScope,
  ApproveOptions,
  DenyOptions,
} from './approval-types.js';
import { unfinishedRequests } from './recover.js';
import { type StandingGrant, StandingGrants } from './standing-grants.js';
import type { WebhookOptions } from './webhook-notifier.js';

export interface ApprovalServiceOptions {
  readonly log: SessionLogWriter;
  /** Members of any of these groups may approve or deny; nobody can when it is empty. */
  readonly approverGroups: readonly string[];
  /** How long a request waits for a decision; default 5 minutes. */
  readonly timeoutMs?: number | undefined;
  readonly clock?: Clock | undefined;
  readonly logger: Logger;
  readonly webhook?: WebhookOptions | undefined;
  readonly idGenerator?: (() => string) | undefined;
  /** Longest `window` an approver may grant; default 24 hours. */
  readonly maxWindowMs?: number | undefined;
  /** Decided requests kept in memory for `list`/`get`; default 1000. The log keeps all of them. */
  readonly retainFinished?: number | undefined;
  /** Known secret values, redacted from approval events like from every other event. */
  readonly secrets?: readonly string[] | undefined;
}

const DEFAULT_TIMEOUT_MS = 5 * 60_000;
const DEFAULT_MAX_WINDOW_MS = 24 * 3_600_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

type SystemEnd = { readonly state: 'expired' | 'cancelled'; readonly reason: string };

/** One request and its waiting requester. */
interface Entry {
  request: ApprovalRequest;
  readonly identity: Identity;
  readonly settle: (outcome: ApprovalOutcome) => void;
  readonly fail: (err: Error) => void;
  timer?: NodeJS.Timeout | undefined;
  detachAbort?: (() => void) | undefined;
  /** A decision is being written to the log; other transitions wait for it (see `deferred`). */
  busy: boolean;
  /** An expiry or cancellation that arrived while busy, applied if the decision fails. */
  deferred?: SystemEnd | undefined;
}

/**
 * The approvals broker: holds reviewed commands until an approver decides, the request times out or
 * the client goes away. Every transition is an `approval` event in the requester's session, and the
 * requested, approved and used events are committed before they take effect (in a strict log), so
 * no command runs on an approval the log does not show.
 */
export class ApprovalService implements ApprovalBroker {
  readonly #approverGroups: readonly string[];
  readonly #timeoutMs: number;
  readonly #maxWindowMs: number;
  readonly #retain: number;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #newId: () => string;
  readonly #journal: ApprovalJournal;
  readonly #requests = new Map<string, Entry>();
  readonly #finished: string[] = [];
  readonly #grants = new StandingGrants();
  #closed = false;

  constructor(opts: ApprovalServiceOptions) {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_TIMER_MS) {
      throw new TypeError(`approval timeout must be between 1 ms and ${formatDuration(MAX_TIMER_MS)}`);
    }
    this.#approverGroups = [...opts.approverGroups];
    this.#timeoutMs = timeoutMs;
    this.#maxWindowMs = opts.maxWindowMs ?? DEFAULT_MAX_WINDOW_MS;
    this.#retain = opts.retainFinished ?? 1000;
    this.#clock = opts.clock ?? systemClock;
    this.#logger = opts.logger.child({ component: 'approvals' });
    this.#newId = opts.idGenerator ?? newApprovalId;
    this.#journal = new ApprovalJournal({
      log: opts.log,
      logger: this.#logger,
      clock: this.#clock,
      secrets: opts.secrets ?? [],
      webhook: opts.webhook,
    });
    if (this.#approverGroups.length === 0) {
      this.#logger.warn({}, 'no approver groups configured: every review will time out');
    }
  }

  /** Whether `identity` may approve or deny requests (it may still not decide its own). */
  isApprover(identity: Identity): boolean {
    return identity.groups.some((g) => this.#approverGroups.includes(g));
  }

  async request(input: ApprovalRequestInput, signal?: AbortSignal): Promise<ApprovalOutcome> {
    if (this.#closed) {
      throw new GatewayError(
        ErrorCode.ShuttingDown,
        'the gateway is shutting down; no new approval requests',
      );
    }
    const now = this.#clock.now();
    const grant = this.#grants.find(input, now.getTime());
    if (grant !== undefined) return this.#useGrant(grant, input);
    if (signal?.aborted) throw cancelled(undefined);

    const { identity, command, decision } = input;
    const request: ApprovalRequest = freeze({
      id: this.#uniqueId(),
      sessionId: input.sessionId,
      connection: input.connection,
      subject: identity.subject,
      issuer: identity.issuer,
      groups: [...identity.groups],
      command: { protocol: command.protocol, kind: command.kind, text: command.text },
      ...(decision.ruleId === undefined ? {} : { rule: decision.ruleId }),
      ...(decision.message === undefined ? {} : { message: decision.message }),
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + this.#timeoutMs).toISOString(),
      state: 'pending',
    });
    // Logged before anyone can see or approve it: an approval must never precede its request.
    await this.#journal.record(request.sessionId, { state: 'requested', id: request.id, request }, true);

    return new Promise<ApprovalOutcome>((resolve, reject) => {
      const entry: Entry = { request, identity, settle: resolve, fail: reject, busy: false };
      this.#requests.set(request.id, entry);
      if (this.#closed) {
        void this.#end(entry, { state: 'expired', reason: 'the gateway is shutting down' });
        return;
      }
      entry.timer = setTimeout(
        () =>
          this.#systemEnd(entry, {
            state: 'expired',
            reason: `no decision within ${formatDuration(this.#timeoutMs)}`,
          }),
        Math.max(0, Date.parse(request.expiresAt) - this.#clock.now().getTime()),
      );
      entry.timer.unref?.();
      if (signal !== undefined) {
        const onAbort = () => this.#systemEnd(entry, { state: 'cancelled', reason: 'the client went away' });
        signal.addEventListener('abort', onAbort, { once: true });
        entry.detachAbort = () => signal.removeEventListener('abort', onAbort);
        if (signal.aborted) onAbort();
      }
      if (entry.request.state !== 'pending') return;
      this.#journal.announce('approval.requested', request);
    });
  }

  list(filter: ApprovalListFilter = {}): ApprovalRequest[] {
    const all = [...this.#requests.values()].map((e) => e.request);
    const chosen = filter.state === undefined ? all : all.filter((r) => r.state === filter.state);
    return chosen.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  get(id: string): ApprovalRequest | undefined {
    return this.#requests.get(id)?.request;
  }

  approve(id: string, approver: Identity, opts: ApproveOptions = {}): Promise<ApprovalRequest> {
    return this.#decide(id, approver, 'approved', opts.reason, opts.scope ?? { kind: 'once' });
  }

  deny(id: string, approver: Identity, opts: DenyOptions = {}): Promise<ApprovalRequest> {
    return this.#decide(id, approver, 'denied', opts.reason, undefined);
  }

  /** Expires every pending request (shutdown, restart); their requesters get `expired`. */
  async expireAll(reason: string): Promise<string[]> {
    const pending = [...this.#requests.values()].filter((e) => e.request.state === 'pending');
    await Promise.all(pending.map((e) => this.#systemEnd(e, { state: 'expired', reason })));
    return pending.map((e) => e.request.id);
  }

  /**
   * On gateway start: given the `approval` events read from the log, records `expired` for every
   * request that was requested but never finished (the previous process stopped while holding it).
   * Returns their ids. Rejects with a LogWriteError, after trying all of them, if any could not be
   * recorded.
   */
  async recoverPending(events: Iterable<StoredEvent>): Promise<string[]> {
    const unfinished = unfinishedRequests(events).filter((u) => !this.#requests.has(u.id));
    await this.#journal.expireUnfinished(unfinished, 'the gateway restarted while the request was pending');
    return unfinished.map((u) => u.id);
  }

  /** Refuses new requests, expires pending ones, and stops webhook retries. */
  async close(reason = 'the gateway is shutting down'): Promise<void> {
    this.#closed = true;
    await this.expireAll(reason);
    await this.#journal.close();
  }

  /** Resolves when every webhook delivery started so far has finished. */
  async webhooksIdle(): Promise<void> {
    await this.#journal.idle();
  }

  async #decide(
    id: string,
    approver: Identity,
    state: 'approved' | 'denied',
    reason: string | undefined,
    scope: ApprovalScope | undefined,
  ): Promise<ApprovalRequest> {
    const verb = state === 'approved' ? 'approve' : 'deny';
    if (!this.isApprover(approver)) {
      throw new ApprovalError(
        'forbidden',
        `"${approver.subject}" is not in an approver group and cannot ${verb} requests`,
      );
    }
    const entry = this.#requests.get(id);
    if (entry === undefined) throw new ApprovalError('not_found', `no approval request ${id}`);
    if (entry.request.subject === approver.subject) {
      throw new ApprovalError('self_approval', `you cannot ${verb} your own request (${id})`);
    }
    if (entry.busy) throw new ApprovalError('conflict', `request ${id} is being decided by another approver`);
    if (entry.request.state !== 'pending') {
      const by = entry.request.approver === undefined ? '' : ` by ${entry.request.approver}`;
      throw new ApprovalError('conflict', `request ${id} is already ${entry.request.state}${by}`);
    }
    if (scope?.kind === 'window') this.#checkWindow(scope.durationMs);

    const decidedAt = this.#clock.now();
    const grant =
      scope?.kind === 'window'
        ? { id: newGrantId(), until: new Date(decidedAt.getTime() + scope.durationMs).toISOString() }
        : undefined;
    entry.busy = true;
    try {
      await this.#journal.record(
        entry.request.sessionId,
        {
          state,
          id,
          approver: approver.subject,
          ...(reason === undefined ? {} : { reason }),
          ...(scope === undefined ? {} : { scope }),
          ...(grant === undefined ? {} : { grant }),
        },
        true,
      );
    } catch (err) {
      // The decision did not happen; the request stays pending unless it ended meanwhile.
      entry.busy = false;
      const deferred = entry.deferred;
      entry.deferred = undefined;
      if (deferred !== undefined) void this.#end(entry, deferred);
      throw err;
    }
    entry.busy = false;
    entry.deferred = undefined;
    this.#detach(entry);
    entry.request = freeze({
      ...entry.request,
      state,
      decidedAt: decidedAt.toISOString(),
      approver: approver.subject,
      ...(reason === undefined ? {} : { reason }),
      ...(scope === undefined ? {} : { scope }),
      ...(grant === undefined ? {} : { grant }),
    });
    if (grant !== undefined) {
      this.#grants.add({
        id: grant.id,
        request: entry.request,
        approver: approver.subject,
        reason,
        createdAt: decidedAt.getTime(),
        expiresAt: Date.parse(grant.until),
      });
    }
    this.#retire(id);
    entry.settle({
      status: state,
      id,
      approver: approver.subject,
      ...(reason === undefined ? {} : { reason }),
    });
    this.#journal.announce('approval.decided', entry.request);
    return entry.request;
  }

  #checkWindow(durationMs: number): void {
    if (!Number.isInteger(durationMs) || durationMs <= 0 || durationMs > this.#maxWindowMs) {
      throw new ApprovalError(
        'invalid',
        `an approval window must be longer than 0 and at most ${formatDuration(this.#maxWindowMs)}`,
      );
    }
  }

  async #useGrant(grant: StandingGrant, input: ApprovalRequestInput): Promise<ApprovalOutcome> {
    const { command } = input;
    await this.#journal.record(
      input.sessionId,
      {
        state: 'used',
        id: grant.request.id,
        grant: grant.id,
        approver: grant.approver,
        ...(grant.reason === undefined ? {} : { reason: grant.reason }),
        command: { protocol: command.protocol, kind: command.kind, text: command.text },
        until: new Date(grant.expiresAt).toISOString(),
      },
      true,
    );
    this.#journal.announce('approval.used', grant.request, {
      grant: grant.id,
      sessionId: input.sessionId,
      connection: input.connection,
      subject: input.identity.subject,
    });
    return {
      status: 'approved',
      id: grant.request.id,
      approver: grant.approver,
      ...(grant.reason === undefined ? {} : { reason: grant.reason }),
    };
  }

  /** Timer, abort or shutdown: ends a pending request now, or after a decision being written fails. */
  #systemEnd(entry: Entry, end: SystemEnd): Promise<void> {
    if (entry.request.state !== 'pending') return Promise.resolve();
    if (entry.busy) {
      entry.deferred ??= end;
      return Promise.resolve();
    }
    return this.#end(entry, end);
  }

  async #end(entry: Entry, end: SystemEnd): Promise<void> {
    if (entry.request.state !== 'pending') return;
    this.#detach(entry);
    // The state changes before the log write so that a racing decision gets a conflict.
    entry.request = freeze({
      ...entry.request,
      state: end.state,
      decidedAt: this.#clock.now().toISOString(),
      reason: end.reason,
    });
    const { id, sessionId } = entry.request;
    this.#retire(id);
    // Best effort: the command does not run either way, so a log failure must not keep the requester waiting.
    await this.#journal.record(sessionId, { state: end.state, id, reason: end.reason }, false);
    this.#journal.announce(
      end.state === 'expired' ? 'approval.expired' : 'approval.cancelled',
      entry.request,
    );
    if (end.state === 'expired') entry.settle({ status: 'expired', id });
    else entry.fail(cancelled(id));
  }

  #detach(entry: Entry): void {
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.detachAbort?.();
    entry.detachAbort = undefined;
  }

  /** Keeps at most `retainFinished` decided requests in memory, dropping the oldest. */
  #retire(id: string): void {
    this.#finished.push(id);
    while (this.#finished.length > this.#retain) {
      const old = this.#finished.shift();
      if (old !== undefined) this.#requests.delete(old);
    }
  }

  #uniqueId(): string {
    for (let i = 0; i < 5; i++) {
      const id = this.#newId();
      if (!this.#requests.has(id)) return id;
    }
    throw new GatewayError(ErrorCode.Internal, 'could not allocate a unique approval request id');
  }
}

function cancelled(id: string | undefined): ApprovalError {
  const what = id === undefined ? 'no approval request was created' : `approval request ${id} was cancelled`;
  return new ApprovalError('cancelled', `${what}: the client went away`);
}

function freeze(request: ApprovalRequest): ApprovalRequest {
  Object.freeze(request.command);
  Object.freeze(request.groups);
  return Object.freeze(request);
}
