import { ErrorCode, GatewayError, ProtocolError } from '@gatehouse/core';
import {
  AUTH_MESSAGE_LIMIT,
  DEFAULT_MAX_MESSAGE_LENGTH,
  FrontendCode,
  MAX_STARTUP_PACKET_LENGTH,
  SMALL_MESSAGE_LIMIT,
} from './codes.js';
import type { FrontendMessage } from './frontend-messages.js';
import { MessageReader } from './message-reader.js';
import { decodeStartupPacket } from './startup-packet.js';
import { decodeTypedMessage, frontendMessageNames } from './typed-messages.js';

export interface FrontendDecoderOptions {
  /**
   * Largest typed message accepted, measured like PostgreSQL does: the value of the length word (body
   * plus the 4 length bytes). Default 64 MiB. Messages that carry only names and counts (Describe,
   * Close, Execute, ...) are held to PostgreSQL's 10,000-byte cap and 'p' messages to 65,535 bytes.
   */
  maxMessageLength?: number;
  /** Largest startup packet, length word included. Default 10,000, PostgreSQL's own limit. */
  maxStartupLength?: number;
  /**
   * Refuse strings that are not valid UTF-8 (default). Policy reads these strings, so a lossy decode
   * would let it judge different text from what the server runs.
   */
  validateUtf8?: boolean;
  /** Where to begin; 'typed' suits a stream whose startup packet was consumed elsewhere. */
  phase?: 'startup' | 'typed';
}

/**
 * - startup: untyped packets (StartupMessage, SSLRequest, GSSENCRequest, CancelRequest).
 * - awaiting-encryption-answer: an SSLRequest or GSSENCRequest was decoded; the client must wait for
 *   the one-byte answer, so any byte now is refused (see `encryptionAnswered`).
 * - typed: after a StartupMessage; messages carry a type byte.
 * - closed: after a CancelRequest, which is the only packet on its connection.
 * - failed: after a ProtocolError; the stream cannot be resynchronised.
 */
export type FrontendDecoderPhase = 'startup' | 'awaiting-encryption-answer' | 'typed' | 'closed' | 'failed';

const TYPED_HEADER = 5;
const STARTUP_HEADER = 4;
const EMPTY = Buffer.alloc(0);
/** First byte of a TLS record carrying a handshake, sent by clients using sslnegotiation=direct. */
const TLS_HANDSHAKE = 0x16;
/** First allocation for a partial message; grows geometrically up to the message's length. */
const MIN_TAIL_CAPACITY = 256;

/**
 * Incremental decoder for what a PostgreSQL client sends. Feed it socket chunks; it returns the
 * complete messages and keeps at most one partial message. Complete messages inside a chunk are
 * decoded in place (zero copies); only a message spanning chunks is copied, once, into a buffer that
 * grows geometrically but never beyond that message's declared length, so memory stays proportional
 * to the bytes actually received even when the declared length is huge.
 */
export class FrontendDecoder {
  #phase: FrontendDecoderPhase;
  #sslAsked = false;
  #gssAsked = false;
  #encrypted = false;
  readonly #maxStartup: number;
  /** Length-word limit per type byte; 0 marks a type byte clients may not send. */
  readonly #limits = new Uint32Array(256);
  /** Fixed-size messages: body must be empty, refused early otherwise. */
  readonly #fixed = new Uint8Array(256);
  readonly #reader: MessageReader;

  #failure: ProtocolError | undefined;
  #tail: Buffer = EMPTY;
  #tailLength = 0;
  /** Total length of the partial message in #tail once its header is complete, else 0. */
  #tailNeed = 0;

  constructor(options: FrontendDecoderOptions = {}) {
    const max = options.maxMessageLength ?? DEFAULT_MAX_MESSAGE_LENGTH;
    this.#maxStartup = options.maxStartupLength ?? MAX_STARTUP_PACKET_LENGTH;
    if (!Number.isInteger(max) || max < 4 || max > 0x7fffffff) {
      throw misuse(`maxMessageLength must be an integer from 4 to 2^31-1, got ${max}`);
    }
    if (!Number.isInteger(this.#maxStartup) || this.#maxStartup < 8 || this.#maxStartup > 0x7fffffff) {
      throw misuse(`maxStartupLength must be an integer from 8 to 2^31-1, got ${this.#maxStartup}`);
    }
    this.#reader = new MessageReader(options.validateUtf8 ?? true);
    this.#phase = options.phase ?? 'startup';
    const small = Math.min(max, SMALL_MESSAGE_LIMIT);
    for (const code of Object.values(FrontendCode)) this.#limits[code] = max;
    for (const code of [FrontendCode.Describe, FrontendCode.Close, FrontendCode.Execute]) {
      this.#limits[code] = small;
    }
    this.#limits[FrontendCode.PasswordMessage] = Math.min(max, AUTH_MESSAGE_LIMIT);
    for (const code of [
      FrontendCode.Sync,
      FrontendCode.Flush,
      FrontendCode.Terminate,
      FrontendCode.CopyDone,
    ]) {
      this.#limits[code] = 4;
      this.#fixed[code] = 1;
    }
  }

  get phase(): FrontendDecoderPhase {
    return this.#phase;
  }

  /** Bytes held for a message that has not fully arrived; non-zero at end of stream means truncation. */
  get bufferedBytes(): number {
    return this.#tailLength;
  }

  /**
   * Call after answering an SSLRequest or GSSENCRequest. Accepted: push the decrypted stream from now
   * on. Declined: the client continues in the clear (or tries the other kind of encryption).
   */
  encryptionAnswered(accepted: boolean): void {
    if (this.#phase !== 'awaiting-encryption-answer') {
      throw misuse(`encryptionAnswered() called in phase ${this.#phase}`);
    }
    this.#encrypted = accepted;
    this.#phase = 'startup';
  }

  /** Switches to typed messages without a StartupMessage (normally automatic after one). */
  startupDone(): void {
    if (this.#phase !== 'startup') throw misuse(`startupDone() called in phase ${this.#phase}`);
    // A partial packet was framed as untyped; reading it as typed would misplace its header.
    if (this.#tailLength > 0) throw misuse('startupDone() called with part of a startup packet buffered');
    this.#phase = 'typed';
  }

  /**
   * Decodes what `chunk` completes. A ProtocolError discards the messages decoded from the same chunk
   * before it (the connection is to be dropped, and forwarding part of a corrupt stream helps no one)
   * and leaves the decoder failed: every later push throws it again.
   */
  push(chunk: Buffer): FrontendMessage[] {
    if (this.#failure !== undefined) throw this.#failure;
    try {
      return this.#push(chunk);
    } catch (err) {
      if (err instanceof ProtocolError) {
        this.#failure = err;
        this.#phase = 'failed';
      }
      throw err;
    }
  }

  #push(chunk: Buffer): FrontendMessage[] {
    const out: FrontendMessage[] = [];
    if (chunk.length === 0) return out;
    this.#checkAcceptingBytes();
    let offset = 0;
    if (this.#tailLength > 0) {
      offset = this.#fillTail(chunk, out);
      if (this.#tailLength > 0) return out;
      if (offset < chunk.length) this.#checkAcceptingBytes();
    }
    const end = chunk.length;
    while (offset < end) {
      const total = this.#frameLength(chunk, offset, end - offset);
      if (total < 0 || total > end - offset) break;
      out.push(this.#decode(chunk, offset, total));
      offset += total;
      if (offset < end) this.#checkAcceptingBytes();
    }
    if (offset < end) this.#startTail(chunk, offset);
    return out;
  }

  #checkAcceptingBytes(): void {
    if (this.#phase === 'awaiting-encryption-answer') {
      // Bytes sent before the answer would be read as if they had come over the encrypted channel
      // (CVE-2021-23214); PostgreSQL refuses them for the same reason.
      throw new ProtocolError('data received after an encryption request and before its answer');
    }
    if (this.#phase === 'closed') throw new ProtocolError('data received after a CancelRequest');
  }

  /**
   * Validates the header at `buf[offset]` and returns the whole message length (type byte and
   * length word included), or -1 if the header has not fully arrived. Everything a header can be
   * refused for is refused here, before any body byte is buffered.
   */
  #frameLength(buf: Buffer, offset: number, available: number): number {
    if (this.#phase === 'typed') {
      const code = buf[offset]!;
      const limit = this.#limits[code]!;
      if (limit === 0) {
        throw new ProtocolError(`unknown message type ${describeCode(code)}`, { details: { code } });
      }
      if (available < TYPED_HEADER) return -1;
      const len = buf.readInt32BE(offset + 1);
      if (len < 4 || len > limit) this.#refuseLength(code, len, limit);
      return len + 1;
    }
    if (available < STARTUP_HEADER) return -1;
    const len = buf.readInt32BE(offset);
    if (len < 8 || len > this.#maxStartup) {
      if (buf[offset] === TLS_HANDSHAKE) {
        throw new ProtocolError(
          'received a TLS handshake where a startup packet was expected (direct SSL negotiation is not enabled here)',
        );
      }
      throw new ProtocolError(`invalid startup packet length ${len} (expected 8 to ${this.#maxStartup})`, {
        details: { length: len },
      });
    }
    return len;
  }

  #refuseLength(code: number, len: number, limit: number): never {
    const name = frontendMessageNames.get(code)!;
    const problem =
      len < 4
        ? `invalid length ${len}`
        : this.#fixed[code] === 1
          ? `length ${len}, expected 4 (this message has no body)`
          : `length ${len} exceeds the limit of ${limit}`;
    throw new ProtocolError(`${name}: ${problem}`, { details: { message: name, length: len, limit } });
  }

  #decode(buf: Buffer, offset: number, total: number): FrontendMessage {
    if (this.#phase === 'typed') return decodeTypedMessage(this.#reader, buf, offset, total);
    const packet = decodeStartupPacket(this.#reader, buf, offset, total);
    switch (packet.type) {
      case 'StartupMessage':
        this.#phase = 'typed';
        break;
      case 'CancelRequest':
        this.#phase = 'closed';
        break;
      case 'SSLRequest':
      case 'GSSENCRequest': {
        const ssl = packet.type === 'SSLRequest';
        if (this.#encrypted || (ssl ? this.#sslAsked : this.#gssAsked)) {
          throw new ProtocolError(`${packet.type} repeated after encryption was already negotiated`);
        }
        if (ssl) this.#sslAsked = true;
        else this.#gssAsked = true;
        this.#phase = 'awaiting-encryption-answer';
        break;
      }
    }
    return packet;
  }

  #startTail(chunk: Buffer, offset: number): void {
    const n = chunk.length - offset;
    const total = this.#frameLength(chunk, offset, n);
    this.#tailNeed = Math.max(total, 0);
    const capacity = total < 0 ? MIN_TAIL_CAPACITY : Math.min(total, Math.max(MIN_TAIL_CAPACITY, n * 2));
    this.#tail = Buffer.allocUnsafe(capacity);
    chunk.copy(this.#tail, 0, offset);
    this.#tailLength = n;
  }

  /** Completes the partial message from the front of `chunk`; returns how many bytes it used. */
  #fillTail(chunk: Buffer, out: FrontendMessage[]): number {
    let used = 0;
    if (this.#tailNeed === 0) {
      const header = this.#phase === 'typed' ? TYPED_HEADER : STARTUP_HEADER;
      used = Math.min(header - this.#tailLength, chunk.length);
      this.#append(chunk, 0, used);
      const total = this.#frameLength(this.#tail, 0, this.#tailLength);
      if (total < 0) return used;
      this.#tailNeed = total;
    }
    const take = Math.min(this.#tailNeed - this.#tailLength, chunk.length - used);
    this.#append(chunk, used, used + take);
    used += take;
    if (this.#tailLength === this.#tailNeed) {
      const tail = this.#tail;
      const total = this.#tailNeed;
      // The decoded message keeps views into this buffer, so it is never reused.
      this.#tail = EMPTY;
      this.#tailLength = 0;
      this.#tailNeed = 0;
      out.push(this.#decode(tail, 0, total));
    }
    return used;
  }

  #append(chunk: Buffer, from: number, to: number): void {
    const n = to - from;
    const needed = this.#tailLength + n;
    if (needed > this.#tail.length) {
      const cap = this.#tailNeed > 0 ? this.#tailNeed : Number.MAX_SAFE_INTEGER;
      const grown = Buffer.allocUnsafe(Math.min(cap, Math.max(needed, this.#tail.length * 2)));
      this.#tail.copy(grown, 0, 0, this.#tailLength);
      this.#tail = grown;
    }
    chunk.copy(this.#tail, this.#tailLength, from, to);
    this.#tailLength = needed;
  }
}

function describeCode(code: number): string {
  const printable = code >= 0x20 && code < 0x7f ? ` ('${String.fromCharCode(code)}')` : '';
  return `0x${code.toString(16).padStart(2, '0')}${printable}`;
}

/** A caller bug, not the peer's fault, so not a ProtocolError. */
function misuse(message: string): GatewayError {
  return new GatewayError(ErrorCode.Internal, `FrontendDecoder: ${message}`);
}
