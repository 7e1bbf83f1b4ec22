import { randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

/** What a cancel key leads to: the upstream backend of one live session. */
export interface CancelTarget {
  /** Name of the gateway connection the key was issued on; a cancel must arrive on the same one. */
  readonly connection: string;
  /** Sends the upstream's own CancelRequest for the session's backend. */
  cancel(): Promise<void>;
}

export interface IssuedCancelKey {
  readonly processId: number;
  /** 4 bytes: protocol 3.0 keys. */
  readonly secretKey: Buffer;
  /** Forgets the key (session over); later cancels with it are dropped. */
  release(): void;
}

/**
 * The gateway's own cancel keys. Clients never see the upstream's process id and secret: each
 * session gets a random pair here, mapped to its upstream backend for as long as the session lives.
 * One registry per module instance, shared by all its connections.
 */
export class CancelKeyRegistry {
  readonly #byProcessId = new Map<number, { readonly secretKey: Buffer; readonly target: CancelTarget }>();

  get size(): number {
    return this.#byProcessId.size;
  }

  issue(target: CancelTarget): IssuedCancelKey {
    let processId: number;
    do processId = randomInt(1, 0x7fffffff);
    while (this.#byProcessId.has(processId));
    const secretKey = randomBytes(4);
    const entry = { secretKey, target };
    this.#byProcessId.set(processId, entry);
    return {
      processId,
      secretKey,
      release: () => {
        if (this.#byProcessId.get(processId) === entry) this.#byProcessId.delete(processId);
      },
    };
  }

  /** The target of a CancelRequest, or undefined (unknown key, wrong secret, other connection). */
  find(connection: string, processId: number, secretKey: Buffer): CancelTarget | undefined {
    const entry = this.#byProcessId.get(processId);
    if (entry === undefined || secretKey.length !== entry.secretKey.length) return undefined;
    if (!timingSafeEqual(secretKey, entry.secretKey)) return undefined;
    return entry.target.connection === connection ? entry.target : undefined;
  }
}
