import type { CommandTicket } from '@gatehouse/core';
import type { SqlStatementFacts } from '@gatehouse/policy';
import type { FieldInfo } from '../masking/index.js';
import type { SqlExtras } from '../sql/index.js';
import type { Portal, PreparedCandidate } from './prepared.js';
import type { ResultContext } from './result-filter.js';

/**
 * The results of one judged command as they stream back: the context the result filter sees, and
 * the counters its result events are made of.
 */
export class ResultRun implements ResultContext {
  fields: readonly FieldInfo[] | undefined;
  copyFormat: number | undefined;
  statementIndex = 0;
  rows = 0;
  bytes = 0;
  /** COPY FROM STDIN bytes sent by the client. */
  copyInBytes = 0;
  /** Definitions made by SQL PREPARE statements of this run, by statement index. */
  preparedCandidates: Map<number, PreparedCandidate> | undefined;

  constructor(
    readonly ticket: CommandTicket | undefined,
    readonly sql: string | undefined,
    readonly shape: string | undefined,
    readonly statements: readonly SqlStatementFacts[] | undefined,
    readonly extras: SqlExtras | undefined,
    /** Data recorded with each result (bound parameters, names). */
    readonly data: Readonly<Record<string, unknown>> | undefined,
  ) {}

  /** Starts counting the next statement of a multi-statement query. */
  next(): void {
    this.statementIndex++;
    this.rows = 0;
    this.bytes = 0;
    this.fields = undefined;
    this.copyFormat = undefined;
    this.copyInBytes = 0;
  }
}

/** What the upstream (or the gateway itself) owes the client, in the order the client asked. */
export type Pending =
  /** A simple Query or a FunctionCall: everything up to ReadyForQuery. */
  | { readonly kind: 'query'; readonly run: ResultRun }
  | { readonly kind: 'parse'; readonly name: string; readonly candidate: PreparedCandidate }
  | { readonly kind: 'bind' }
  /** Ends with RowDescription or NoData; `internal` ones were sent by the gateway and are not relayed. */
  | {
      readonly kind: 'describe';
      readonly portal: Portal | undefined;
      readonly internal: boolean;
    }
  | { readonly kind: 'execute'; readonly run: ResultRun; readonly portal: Portal | undefined }
  | { readonly kind: 'close'; readonly target: 'statement' | 'portal'; readonly name: string }
  | { readonly kind: 'sync' }
  /** The gateway's own answer, written when everything before it has been answered. */
  | { readonly kind: 'reply'; readonly bytes: Buffer | 'ready' }
  /** A message the gateway sent to make the upstream fail a batch; its error is replaced by `replacement`. */
  | { readonly kind: 'swallow-error'; readonly replacement: Buffer };

/** A FIFO with O(1) shift. */
export class Queue<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  peek(): T | undefined {
    return this.#items[this.#head];
  }

  push(item: T): void {
    this.#items.push(item);
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  clear(): T[] {
    const rest = this.#items.slice(this.#head) as T[];
    this.#items = [];
    this.#head = 0;
    return rest;
  }
}
