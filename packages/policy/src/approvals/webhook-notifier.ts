import { type Clock, type Logger, systemClock } from '@gatehouse/core';
import { randomId } from './approval-id.js';
import type { ApprovalRequest } from './approval-types.js';
import { DELIVERY_HEADER, SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from './webhook-signature.js';

export type WebhookEventType =
  | 'approval.requested'
  | 'approval.decided'
  | 'approval.expired'
  | 'approval.cancelled'
  | 'approval.used';

export interface WebhookPayload {
  readonly type: WebhookEventType;
  /** The request as it stands after the event (for `approval.used`: the request that created the grant). */
  readonly request: ApprovalRequest;
  /** For `approval.used`: the grant and the session whose command it let through. */
  readonly use?: {
    readonly grant: string;
    readonly sessionId: string;
    readonly connection: string;
    readonly subject: string;
  };
}

/** Shaped like the config's resolved `approvals.webhook`, so it can be passed straight through. */
export interface WebhookOptions {
  readonly url: string;
  /** Signs each delivery when set; deliveries are unsigned otherwise. */
  readonly secret?: string | undefined;
  /** Per attempt; default 5 s. */
  readonly timeoutMs?: number | undefined;
  /** Attempts after the first; default 3. */
  readonly retries?: number | undefined;
  /** First retry delay, doubled for each later one; default 500 ms. */
  readonly backoffMs?: number | undefined;
  readonly fetch?: typeof fetch;
}

export interface WebhookDelivery {
  readonly id: string;
  readonly ok: boolean;
  readonly attempts: number;
  readonly status?: number | undefined;
  readonly error?: string | undefined;
}

const DEFAULT_TIMEOUT_MS = 5_000;
const DEFAULT_RETRIES = 3;
const DEFAULT_BACKOFF_MS = 500;

/**
 * Announces approval events to one HTTP endpoint. Deliveries run in the background: `send` never
 * rejects and the approval flow never waits for it, so a slow or dead receiver cannot hold up or
 * fail a request. Failures go to the logger, which sees the URL without its query or credentials,
 * and never the secret.
 */
export class WebhookNotifier {
  readonly #opts: WebhookOptions;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #fetch: typeof fetch;
  readonly #inFlight = new Set<Promise<WebhookDelivery>>();
  readonly #closing = new AbortController();
  readonly #safeUrl: string;

  constructor(opts: WebhookOptions, deps: { logger: Logger; clock?: Clock | undefined }) {
    const url = new URL(opts.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError('approval webhook URL must be http or https');
    }
    this.#opts = opts;
    this.#logger = deps.logger;
    this.#clock = deps.clock ?? systemClock;
    this.#fetch = opts.fetch ?? fetch;
    this.#safeUrl = `${url.origin}${url.pathname}`;
  }

  send(payload: WebhookPayload): Promise<WebhookDelivery> {
    const delivery = this.#deliver(payload).finally(() => this.#inFlight.delete(delivery));
    this.#inFlight.add(delivery);
    return delivery;
  }

  /** Resolves when every delivery started so far has finished (succeeded or given up). */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  /** Stops scheduling retries and waits for attempts already in flight (each bounded by its timeout). */
  async close(): Promise<void> {
    this.#closing.abort();
    await this.idle();
  }

  async #deliver(payload: WebhookPayload): Promise<WebhookDelivery> {
    const id = randomId('whk_');
    const body = JSON.stringify({ id, sentAt: this.#clock.now().toISOString(), ...payload });
    const retries = Math.max(0, this.#opts.retries ?? DEFAULT_RETRIES);
    const backoff = this.#opts.backoffMs ?? DEFAULT_BACKOFF_MS;
    const context = {
      webhook: this.#safeUrl,
      delivery: id,
      event: payload.type,
      approval: payload.request.id,
    };
    let last: { status?: number; error?: string } = {};
    let attempt = 0;
    while (attempt <= retries) {
      if (attempt > 0) {
        if (!(await sleep(backoff * 2 ** (attempt - 1), this.#closing.signal))) break;
      }
      attempt++;
      last = await this.#attempt(id, body);
      if (last.status !== undefined && last.status >= 200 && last.status < 300) {
        return { id, ok: true, attempts: attempt, status: last.status };
      }
      const retryable = last.status === undefined || last.status >= 500 || [408, 429].includes(last.status);
      this.#logger.warn({ ...context, attempt, ...last }, 'approval webhook delivery attempt failed');
      if (!retryable) break;
    }
    this.#logger.error({ ...context, attempts: attempt, ...last }, 'approval webhook delivery gave up');
    return { id, ok: false, attempts: attempt, ...last };
  }

  async #attempt(id: string, body: string): Promise<{ status?: number; error?: string }> {
    const timestamp = String(Math.floor(this.#clock.now().getTime() / 1000));
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'gatehouse-approvals',
      [DELIVERY_HEADER]: id,
      [TIMESTAMP_HEADER]: timestamp,
    };
    const secret = this.#opts.secret;
    if (secret !== undefined && secret !== '')
      headers[SIGNATURE_HEADER] = signWebhook(secret, timestamp, body);
    try {
      const res = await this.#fetch(this.#opts.url, {
        method: 'POST',
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#opts.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      });
      // Drain the body so the connection can be reused; its content is of no interest.
      await res.arrayBuffer().catch(() => undefined);
      return { status: res.status };
    } catch (err) {
      return { error: describe(err) };
    }
  }
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.name === 'TimeoutError') return 'timed out';
  const cause = (err as { cause?: unknown }).cause;
  const code = cause instanceof Error ? (cause as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? `${err.message} (${code})` : err.message;
}

/** Resolves true after `ms`, or false at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    timer.unref?.();
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
