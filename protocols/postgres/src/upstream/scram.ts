import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { UpstreamError } from '@gatehouse/core';

/**
 * The client side of SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL speaks it: no channel
 * binding (`n,,`), an empty user name (the server uses the startup packet's user), and a server
 * signature that must verify before the gateway trusts the connection — otherwise a server that
 * merely claims success could impersonate the upstream.
 */
export class ScramClient {
  readonly #password: string;
  readonly #user: string;
  readonly #clientNonce: string;
  #clientFirstBare = '';
  #expectedServerSignature: Buffer | undefined;
  #state: 'initial' | 'first-sent' | 'final-sent' | 'done' = 'initial';

  /** `nonce` and `user` exist for the RFC test vectors; PostgreSQL ignores the user name here. */
  constructor(password: string, options: { nonce?: string; user?: string } = {}) {
    this.#password = password;
    this.#user = options.user ?? '';
    this.#clientNonce = options.nonce ?? randomBytes(18).toString('base64');
  }

  /** client-first-message, for SASLInitialResponse. */
  clientFirst(): string {
    if (this.#state !== 'initial') throw misuse('clientFirst');
    this.#clientFirstBare = `n=${saslName(this.#user)},r=${this.#clientNonce}`;
    this.#state = 'first-sent';
    return `n,,${this.#clientFirstBare}`;
  }

  /** Answers server-first-message (AuthenticationSASLContinue) with client-final-message. */
  clientFinal(serverFirst: string): string {
    if (this.#state !== 'first-sent') throw misuse('clientFinal');
    const attrs = parseAttributes(serverFirst);
    const nonce = attrs.get('r');
    const salt = attrs.get('s');
    const iterations = Number(attrs.get('i'));
    if (attrs.has('m')) throw refused('the server requires a SCRAM extension the gateway does not support');
    if (
      nonce === undefined ||
      !nonce.startsWith(this.#clientNonce) ||
      nonce.length <= this.#clientNonce.length
    ) {
      throw refused('the server nonce does not extend the client nonce');
    }
    if (salt === undefined || salt === '') throw refused('the server sent no salt');
    // A hostile or broken server could make the gateway spin on a huge iteration count.
    if (!Number.isSafeInteger(iterations) || iterations < 1 || iterations > 10_000_000) {
      throw refused(`the server asked for ${attrs.get('i')} iterations`);
    }
    const saltedPassword = pbkdf2Sync(
      Buffer.from(saslPrep(this.#password), 'utf8'),
      Buffer.from(salt, 'base64'),
      iterations,
      32,
      'sha256',
    );
    const clientFinalWithoutProof = `c=biws,r=${nonce}`;
    const authMessage = `${this.#clientFirstBare},${serverFirst},${clientFinalWithoutProof}`;
    const clientKey = hmac(saltedPassword, 'Client Key');
    const storedKey = createHash('sha256').update(clientKey).digest();
    const clientSignature = hmac(storedKey, authMessage);
    const proof = Buffer.alloc(clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i]! ^ clientSignature[i]!;
    this.#expectedServerSignature = hmac(hmac(saltedPassword, 'Server Key'), authMessage);
    this.#state = 'final-sent';
    return `${clientFinalWithoutProof},p=${proof.toString('base64')}`;
  }

  /** Checks server-final-message (AuthenticationSASLFinal); throws unless the server proved it knows the password. */
  verifyServerFinal(serverFinal: string): void {
    if (this.#state !== 'final-sent' || this.#expectedServerSignature === undefined) {
      throw misuse('verifyServerFinal');
    }
    const attrs = parseAttributes(serverFinal);
    const error = attrs.get('e');
    if (error !== undefined) throw refused(`the server reported SCRAM error "${error}"`);
    const signature = Buffer.from(attrs.get('v') ?? '', 'base64');
    const expected = this.#expectedServerSignature;
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) {
      throw refused('the server signature does not verify: the upstream is not who it claims to be');
    }
    this.#state = 'done';
  }

  get verified(): boolean {
    return this.#state === 'done';
  }
}

function hmac(key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text).digest();
}

function parseAttributes(message: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of message.split(',')) {
    const eq = part.indexOf('=');
    if (eq !== 1) throw refused(`malformed SCRAM message attribute "${part.slice(0, 20)}"`);
    out.set(part[0]!, part.slice(2));
  }
  return out;
}

function saslName(name: string): string {
  return name.replaceAll('=', '=3D').replaceAll(',', '=2C');
}

/** Non-ASCII spaces (RFC 4013 table C.1.2) map to a space. */
const NON_ASCII_SPACE = /[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/g;
/** Characters "commonly mapped to nothing" (RFC 3454 table B.1). */
const MAPPED_TO_NOTHING = /\u00AD|\u034F|\u1806|[\u180B-\u180D]|\u200C|\u200D|\u2060|[\uFE00-\uFE0F]|\uFEFF/g;
/** Control characters and other code points SASLprep prohibits; PostgreSQL then uses the raw bytes. */
const PROHIBITED =
  /[\u0000-\u001F\u007F-\u009F\u06DD\u070F\u180E\u200E\u200F\u2028-\u202E\u206A-\u206F\uFFF9-\uFFFD\uE000-\uF8FF]/;

/**
 * SASLprep (RFC 4013) as PostgreSQL applies it to passwords: when the password is not valid
 * under SASLprep, PostgreSQL uses it as is, so this does the same rather than fail.
 */
export function saslPrep(password: string): string {
  if (/^[\x20-\x7e]*$/.test(password)) return password;
  const mapped = password.replace(NON_ASCII_SPACE, ' ').replace(MAPPED_TO_NOTHING, '').normalize('NFKC');
  if (mapped === '' || PROHIBITED.test(mapped)) return password;
  return mapped;
}

function refused(why: string): UpstreamError {
  return new UpstreamError(`SCRAM authentication with the upstream failed: ${why}`);
}

function misuse(step: string): Error {
  return new Error(`ScramClient.${step} called out of order`);
}
