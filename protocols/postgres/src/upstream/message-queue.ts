import type { Socket } from 'node:net';
import { ProtocolError, UpstreamError } from '@gatehouse/core';
import { BackendFramer } from './backend-framer.js';

export interface RawBackendMessage {
  readonly code: number;
  readonly raw: Buffer;
}

/**
 * Reads whole upstream messages one at a time, for the connection start where each answer
 * decides what to send next. `detach()` hands the socket over to the relay.
 */
export class MessageQueue {
  readonly #socket: Socket;
  readonly #framer = new BackendFramer();
  readonly #queue: RawBackendMessage[] = [];
  #waiter: { resolve: (m: RawBackendMessage) => void; reject: (e: Error) => void } | undefined;
  #failure: Error | undefined;
  readonly #onData = (chunk: Buffer) => {
    try {
      this.#framer.push(chunk, (code, raw) => {
        // Views into a chunk are copied: startup messages are few and may be kept.
        const message = { code, raw: Buffer.from(raw) };
        const waiter = this.#waiter;
        if (waiter !== undefined) {
          this.#waiter = undefined;
          waiter.resolve(message);
        } else this.#queue.push(message);
      });
    } catch (err) {
      this.#fail(err instanceof Error ? err : new ProtocolError(String(err)));
      this.#socket.destroy();
    }
  };
  readonly #onClose = () => this.#fail(new UpstreamError('the upstream server closed the connection'));
  readonly #onError = (err: Error) =>
    this.#fail(new UpstreamError(`upstream connection failed: ${err.message}`));

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', this.#onData);
    socket.on('close', this.#onClose);
    socket.on('error', this.#onError);
  }

  next(): Promise<RawBackendMessage> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  /** Stops reading; returns messages already received and bytes of a partial one. */
  detach(): { messages: RawBackendMessage[]; partial: boolean } {
    this.#socket.off('data', this.#onData);
    this.#socket.off('close', this.#onClose);
    this.#socket.off('error', this.#onError);
    this.#socket.pause();
    return { messages: this.#queue.splice(0), partial: this.#framer.bufferedBytes > 0 };
  }

  #fail(err: Error): void {
    this.#failure ??= err;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(this.#failure);
  }
}
