import type { Socket } from 'node:net';
import type { CommandResult, GatewaySession, Logger } from '@gatehouse/core';
import { readyForQuery, type TransactionStatus } from '../wire/index.js';
import { OutBuffer } from './out-buffer.js';
import type { Pending, ResultRun } from './pending.js';
import { Queue } from './pending.js';
import { type Portal, PreparedStatements } from './prepared.js';
import type { BackendMessageFilter } from './result-filter.js';

/** What a result event needs beyond the run's counters. */
export interface Outcome {
  readonly status: 'ok' | 'error';
  readonly summary: string;
  readonly error?: { readonly code: string; readonly message: string };
}

/**
 * State shared by the two directions of one relayed connection: the sockets and their output
 * buffers, the queue of answers owed to the client, the transaction status, and the session's
 * prepared statements and portals.
 */
export class RelayState {
  readonly clientOut = new OutBuffer();
  readonly upstreamOut = new OutBuffer();
  readonly pending = new Queue<Pending>();
  readonly prepared = new PreparedStatements();
  readonly portals = new Map<string, Portal>();
  /** From the upstream's last ReadyForQuery. */
  status: TransactionStatus = 'I';
  /**
   * The upstream met an error in an extended-protocol batch and skips messages until Sync:
   * whatever is queued before the next Sync will never be answered.
   */
  upstreamSkipping = false;
  /** The FATAL error the upstream sent the client before ending the session, if any. */
  fatalSent: string | undefined;

  constructor(
    readonly client: Socket,
    readonly upstream: Socket,
    readonly session: GatewaySession,
    readonly filter: BackendMessageFilter,
    readonly logger: Logger,
  ) {}

  /** Queues an answer the client is owed; the gateway's own answers go out as soon as it is their turn. */
  expect(item: Pending): void {
    if (this.upstreamSkipping && item.kind !== 'sync') {
      this.discard(item, 'skipped');
      return;
    }
    if (item.kind === 'sync') this.upstreamSkipping = false;
    this.pending.push(item);
    if (this.pending.length === 1) this.answerOwn();
  }

  /** Writes the gateway's own answers that have reached the head of the queue. */
  answerOwn(): void {
    for (let head = this.pending.peek(); head?.kind === 'reply'; head = this.pending.peek()) {
      this.pending.shift();
      this.clientOut.push(head.bytes === 'ready' ? readyForQuery(this.status) : head.bytes);
    }
  }

  /**
   * The upstream failed a message of an extended-protocol batch: it answers nothing more until
   * Sync, so every answer queued before the next Sync is void.
   */
  skipToSync(): void {
    for (
      let head = this.pending.peek();
      head !== undefined && head.kind !== 'sync';
      head = this.pending.peek()
    ) {
      this.pending.shift();
      this.discard(head, 'skipped');
    }
    if (this.pending.length === 0) this.upstreamSkipping = true;
  }

  /** An answer that will never come: log what was judged but not run, forget what was not made. */
  discard(item: Pending, why: 'skipped' | 'connection-lost'): void {
    const message =
      why === 'skipped'
        ? 'not run: an earlier message of the same batch failed'
        : 'the connection was lost before the statement completed';
    const code = why === 'skipped' ? 'skipped' : '08006';
    switch (item.kind) {
      case 'query':
      case 'execute':
        this.logResult(item.run, { status: 'error', summary: 'not run', error: { code, message } });
        this.withdrawPrepared(item.run, 0);
        break;
      case 'parse':
        this.prepared.withdraw(item.name, item.candidate);
        break;
      default:
        break;
    }
  }

  /** SQL PREPAREs of a run from statement `from` on did not happen. */
  withdrawPrepared(run: ResultRun, from: number): void {
    const candidates = run.preparedCandidates;
    if (candidates === undefined || run.extras === undefined) return;
    for (const p of run.extras.prepares) {
      const candidate = candidates.get(p.index);
      if (p.index >= from && candidate !== undefined) this.prepared.withdraw(p.name, candidate);
    }
  }

  logResult(run: ResultRun, outcome: Outcome): void {
    if (run.ticket === undefined) return;
    const result: CommandResult = {
      status: outcome.status,
      summary: outcome.summary,
      rows: run.rows,
      bytes: run.bytes + run.copyInBytes,
      ...(outcome.error === undefined ? {} : { error: outcome.error }),
      ...(run.data === undefined ? {} : { data: run.data }),
    };
    this.session.result(run.ticket, result);
  }

  /** Writes pending client output; pauses the upstream while the client is slow to read. */
  flushClient(): void {
    if (this.clientOut.empty) return;
    if (!this.clientOut.flush(this.client) && !this.upstream.isPaused()) {
      this.upstream.pause();
      this.client.once('drain', () => this.upstream.resume());
    }
  }
}
