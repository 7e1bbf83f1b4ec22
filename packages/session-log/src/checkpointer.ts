import { Worker } from 'node:worker_threads';
import type { LogWriteError } from '@gatehouse/core';
import { unavailable } from './log-errors.js';
import { workerScript } from './worker-script.js';

export type ToCheckpointer = { readonly kind: 'checkpoint' } | { readonly kind: 'close' };

export type FromCheckpointer =
  | { readonly kind: 'checkpointed'; readonly frames: number; readonly copied: number }
  | { readonly kind: 'problem'; readonly message: string; readonly code: string | undefined };

const RESTART_DELAY_MS = 1000;

/**
 * Runs the session log's checkpoints in a thread of their own. A checkpoint copies the WAL back into
 * the database file and syncs it — tens of milliseconds when the WAL is large — and SQLite would
 * otherwise run it inside whichever commit crossed its threshold, on the event loop. The thread is
 * started the first time a checkpoint is wanted (most short-lived processes never need one), never
 * keeps the process alive, and is started again if it stops; until then the WAL only grows.
 */
export class Checkpointer {
  readonly #path: string;
  readonly #onError: (err: LogWriteError) => void;
  readonly #onCheckpoint: ((frames: number, copied: number) => void) | undefined;
  #worker: Worker | undefined;
  #exited: Promise<void> = Promise.resolve();
  /** A checkpoint was asked for and has not answered yet: asking again would only queue up. */
  #busy = false;
  #closing = false;
  #restart: NodeJS.Timeout | undefined;

  constructor(
    path: string,
    onError: (err: LogWriteError) => void,
    onCheckpoint?: (frames: number, copied: number) => void,
  ) {
    this.#path = path;
    this.#onError = onError;
    this.#onCheckpoint = onCheckpoint;
  }

  /** Asks for a passive checkpoint, unless one is under way. */
  request(): void {
    if (this.#closing || this.#busy || this.#restart !== undefined) return;
    this.#worker ??= this.#start();
    this.#busy = true;
    this.#worker.postMessage({ kind: 'checkpoint' } satisfies ToCheckpointer);
  }

  async close(): Promise<void> {
    this.#closing = true;
    if (this.#restart !== undefined) clearTimeout(this.#restart);
    this.#restart = undefined;
    const worker = this.#worker;
    if (worker === undefined) return;
    worker.postMessage({ kind: 'close' } satisfies ToCheckpointer);
    // The thread is unreferenced: hold the loop open until its exit arrives.
    const keepAlive = setInterval(() => {}, 60_000);
    try {
      await this.#exited;
    } finally {
      clearInterval(keepAlive);
    }
  }

  #start(): Worker {
    const script = workerScript('checkpoint-worker.js');
    const worker = new Worker(script.url, {
      workerData: { path: this.#path },
      name: 'session-log-checkpointer',
      execArgv: script.execArgv,
    });
    let error: unknown;
    this.#exited = new Promise<void>((resolve) => {
      worker.on('exit', (code) => {
        if (this.#worker === worker) this.#worker = undefined;
        this.#busy = false;
        resolve();
        if (this.#closing) return;
        const cause = error ?? new Error(`the checkpointer thread stopped, exit code ${code}`);
        this.#onError(unavailable(this.#path, cause, 'checkpoints'));
        // Asked for again by the next commit once the delay is over.
        this.#restart = setTimeout(() => {
          this.#restart = undefined;
        }, RESTART_DELAY_MS);
        this.#restart.unref();
      });
    });
    worker.on('error', (err) => {
      error = err;
    });
    worker.on('message', (message: FromCheckpointer) => {
      this.#busy = false;
      if (message.kind === 'problem') {
        const cause = Object.assign(
          new Error(message.message),
          message.code === undefined ? {} : { code: message.code },
        );
        this.#onError(unavailable(this.#path, cause, 'checkpoint'));
      } else {
        this.#onCheckpoint?.(message.frames, message.copied);
      }
    });
    // After the listeners: attaching one references the thread's port again.
    worker.unref();
    return worker;
  }
}
