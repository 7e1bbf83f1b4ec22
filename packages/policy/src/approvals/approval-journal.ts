import { type Clock, EventType, type Logger, LogWriteError, type SessionLogWriter } from '@gatehouse/core';
import type { ApprovalRequest } from './approval-types.js';
import type { UnfinishedRequest } from './recover.js';
import {
  type WebhookEventType,
  WebhookNotifier,
  type WebhookOptions,
  type WebhookPayload,
} from './webhook-notifier.js';

export interface ApprovalJournalOptions {
  readonly log: SessionLogWriter;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly secrets: readonly string[];
  readonly webhook?: WebhookOptions | undefined;
}

/**
 * Where approval transitions go: first the requester's session log (the record that counts), then
 * the webhook (best effort, in the background).
 */
export class ApprovalJournal {
  readonly #log: SessionLogWriter;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #secrets: readonly string[];
  readonly #notifier: WebhookNotifier | undefined;

  constructor(opts: ApprovalJournalOptions) {
    this.#log = opts.log;
    this.#logger = opts.logger;
    this.#clock = opts.clock;
    this.#secrets = opts.secrets;
    this.#notifier =
      opts.webhook === undefined
        ? undefined
        : new WebhookNotifier(opts.webhook, { logger: opts.logger, clock: opts.clock });
  }

  /**
   * Appends an `approval` event. When `mustCommit` and the log is strict, a failed write rejects:
   * the transition must not take effect unrecorded. Otherwise the failure is only reported.
   */
  async record(
    sessionId: string,
    data: Readonly<Record<string, unknown>>,
    mustCommit: boolean,
  ): Promise<void> {
    try {
      await this.#log.append({ sessionId, type: EventType.Approval, data, secrets: this.#secrets });
    } catch (err) {
      const error =
        err instanceof LogWriteError ? err : new LogWriteError('session log unavailable', { cause: err });
      this.#logger.error(
        { err: error.message, approval: data['id'], state: data['state'] },
        'approval event could not be logged',
      );
      if (mustCommit && this.#log.strict) throw error;
    }
  }

  /** Tells operators (logger) and the webhook about a transition that has been recorded. */
  announce(type: WebhookEventType, request: ApprovalRequest, use?: WebhookPayload['use']): void {
    this.#logger.info(
      {
        approval: request.id,
        state: type === 'approval.used' ? 'used' : request.state,
        session: use?.sessionId ?? request.sessionId,
        connection: request.connection,
        subject: request.subject,
        rule: request.rule,
        ...(type === 'approval.requested' ? { command: truncate(request.command.text, 200) } : {}),
        approver: request.approver,
        reason: request.reason,
        grant: use?.grant ?? request.grant?.id,
      },
      type === 'approval.used' ? 'standing approval used' : `approval ${request.state}`,
    );
    if (this.#notifier === undefined) return;
    void this.#notifier.send(use === undefined ? { type, request } : { type, request, use });
  }

  /**
   * Records `expired` for requests a previous process left pending. Tries all of them, then rejects
   * with a LogWriteError if any could not be recorded, whatever the log's strictness: a gateway
   * that cannot write its log should not start.
   */
  async expireUnfinished(unfinished: readonly UnfinishedRequest[], reason: string): Promise<void> {
    const failed: unknown[] = [];
    for (const u of unfinished) {
      try {
        await this.#log.append({
          sessionId: u.sessionId,
          type: EventType.Approval,
          data: { state: 'expired', id: u.id, reason },
          secrets: this.#secrets,
        });
      } catch (err) {
        failed.push(err);
        continue;
      }
      if (u.request !== undefined) {
        const decidedAt = this.#clock.now().toISOString();
        // Announced, not logged one by one: the summary line below covers the operator log.
        void this.#notifier?.send({
          type: 'approval.expired',
          request: Object.freeze({ ...u.request, state: 'expired', decidedAt, reason }),
        });
      }
    }
    if (unfinished.length > 0) {
      this.#logger.info(
        { count: unfinished.length - failed.length, reason },
        'expired approval requests left pending',
      );
    }
    if (failed.length > 0) {
      throw new LogWriteError(`could not record the expiry of ${failed.length} pending approval request(s)`, {
        cause: failed[0],
      });
    }
  }

  idle(): Promise<void> {
    return this.#notifier?.idle() ?? Promise.resolve();
  }

  close(): Promise<void> {
    return this.#notifier?.close() ?? Promise.resolve();
  }
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
