/**
 * The requests of one HTTP/1.1 client connection, handled one after another in arrival order (a
 * pipelined request waits for the answer before it), with the shutdown rule both the HTTP and the
 * Kubernetes modules follow: once shutting down, the connection is ended as soon as nothing is in
 * flight.
 */
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { type GatewayError, toGatewayError } from '@gatehouse/core';

export class RequestQueue {
  #tail: Promise<void> = Promise.resolve();
  #active = 0;
  #shuttingDown = false;

  constructor(
    private readonly socket: Duplex,
    /** Answers a request whose handling threw (the response, when there is one to answer on). */
    private readonly onFailure: (error: GatewayError, res: ServerResponse | undefined) => void,
  ) {}

  /** Requests queued or in progress. */
  get active(): number {
    return this.#active;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Runs `work` once every request before it has finished. */
  push(work: () => Promise<void>, res: ServerResponse | undefined): void {
    this.#active++;
    this.#tail = this.#tail
      .then(work)
      .catch((err: unknown) => this.onFailure(toGatewayError(err), res))
      .finally(() => {
        this.#active--;
        if (this.#shuttingDown && this.#active === 0) this.socket.end();
      });
  }

  /**
   * Queues a request whose work ends when its response (or the connection) closes: a queued
   * response that never got the socket sees no 'close' of its own, so both are watched.
   */
  pushRequest(res: ServerResponse, respond: () => Promise<void>): void {
    this.push(async () => {
      let settle!: () => void;
      const done = new Promise<void>((resolve) => {
        settle = resolve;
      });
      res.once('close', settle);
      this.socket.once('close', settle);
      try {
        if (!this.socket.destroyed) await respond();
        else res.destroy();
        await done;
      } finally {
        res.off('close', settle);
        this.socket.off('close', settle);
      }
    }, res);
  }

  /** Stops taking work: the connection ends now if idle, else when the last request finishes. */
  shutdown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    if (this.#active === 0) this.socket.end();
  }

  /** Resolves when the queue is empty, or after `ms` at the latest. */
  settled(ms: number): Promise<void> {
    return Promise.race([this.#tail, new Promise<void>((resolve) => setTimeout(resolve, ms).unref())]);
  }
}
