import type { Socket } from 'node:net';
import { type GatewayError, ProtocolError, toGatewayError } from '@gatehouse/core';
import { FrontendDecoder, type FrontendMessage } from '../wire/index.js';

/** The client went away; not a protocol error of its own. */
export class ClientClosedError extends ProtocolError {
  constructor() {
    super('the client closed the connection');
    this.name = 'ClientClosedError';
  }
}

/**
 * Reads what a client sends through the one FrontendDecoder of its connection: message by message
 * (`next`) during the connection start, then straight into a handler (`handOff`) for the relay.
 * The socket can be swapped for its TLS wrapper in between.
 */
export class ClientReader {
  readonly decoder: FrontendDecoder;
  #socket: Socket;
  readonly #queue: FrontendMessage[] = [];
  #waiter: { resolve: (m: FrontendMessage) => void; reject: (e: GatewayError) => void } | undefined;
  #failure: GatewayError | undefined;
  #handler: ((messages: FrontendMessage[]) => void) | undefined;
  #onError: ((error: GatewayError) => void) | undefined;
  readonly #onData = (chunk: Buffer) => this.#data(chunk);
  readonly #onEnd = () => this.#fail(new ClientClosedError(), false);

  constructor(socket: Socket, maxMessageLength: number) {
    this.decoder = new FrontendDecoder({ maxMessageLength });
    this.#socket = socket;
    this.#attach();
  }

  get socket(): Socket {
    return this.#socket;
  }

  next(): Promise<FrontendMessage> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  /** Stops reading the current socket (before wrapping it in TLS). */
  detach(): void {
    this.#socket.off('data', this.#onData);
    this.#socket.off('end', this.#onEnd);
    this.#socket.off('close', this.#onEnd);
    this.#socket.pause();
  }

  /** Reads from `socket` from now on. */
  attach(socket: Socket): void {
    this.#socket = socket;
    this.#attach();
  }

  /** Delivers every later message (and those already queued) to `handler`. */
  handOff(handler: (messages: FrontendMessage[]) => void, onError: (error: GatewayError) => void): void {
    this.#handler = handler;
    this.#onError = onError;
    if (this.#queue.length > 0) handler(this.#queue.splice(0));
    if (this.#failure !== undefined) onError(this.#failure);
  }

  #attach(): void {
    this.#socket.on('data', this.#onData);
    this.#socket.once('end', this.#onEnd);
    this.#socket.once('close', this.#onEnd);
  }

  #data(chunk: Buffer): void {
    let messages: FrontendMessage[];
    try {
      messages = this.decoder.push(chunk);
    } catch (err) {
      this.#fail(toGatewayError(err), true);
      return;
    }
    if (messages.length === 0) return;
    if (this.#handler !== undefined) {
      this.#handler(messages);
      return;
    }
    for (const m of messages) {
      const waiter = this.#waiter;
      if (waiter !== undefined) {
        this.#waiter = undefined;
        waiter.resolve(m);
      } else this.#queue.push(m);
    }
  }

  #fail(error: GatewayError, protocol: boolean): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    if (protocol) this.detach();
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(error);
    this.#onError?.(error);
  }
}
