import { ErrorCode, GatewayError } from '@gatehouse/core';
import { AuthCode, BackendCode, MAX_CANCEL_KEY_LENGTH, MIN_CANCEL_KEY_LENGTH } from './codes.js';
import { MessageWriter } from './message-writer.js';

/**
 * Server messages of the connection start: encryption answers, authentication requests, session
 * parameters, the cancel key and protocol negotiation. Fixed messages are shared buffers: write them
 * to a socket, never mutate them.
 */

const SSL_YES = Buffer.from('S');
const GSS_YES = Buffer.from('G');
const NO = Buffer.from('N');

/** The one-byte answer to an SSLRequest: 'S' then the TLS handshake, or 'N'. */
export function sslRequestAnswer(accept: boolean): Buffer {
  return accept ? SSL_YES : NO;
}

/** The one-byte answer to a GSSENCRequest: 'G' then GSSAPI negotiation, or 'N'. */
export function gssEncRequestAnswer(accept: boolean): Buffer {
  return accept ? GSS_YES : NO;
}

function auth(code: number): MessageWriter {
  return new MessageWriter(32).start(BackendCode.Authentication).int32(code);
}

const AUTH_OK = auth(AuthCode.Ok).finish();
const AUTH_CLEARTEXT = auth(AuthCode.CleartextPassword).finish();

export function authenticationOk(): Buffer {
  return AUTH_OK;
}

export function authenticationCleartextPassword(): Buffer {
  return AUTH_CLEARTEXT;
}

export function authenticationMD5Password(salt: Uint8Array): Buffer {
  if (salt.length !== 4) throw misuse(`MD5 salt must be 4 bytes, got ${salt.length}`);
  return auth(AuthCode.MD5Password).bytes(salt).finish();
}

/** Offers SASL mechanisms, e.g. ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256'], most preferred first. */
export function authenticationSASL(mechanisms: readonly string[]): Buffer {
  if (mechanisms.length === 0) throw misuse('AuthenticationSASL needs at least one mechanism');
  const w = auth(AuthCode.SASL);
  for (const m of mechanisms) {
    // An empty name would read as the end of the list.
    if (m === '') throw misuse('SASL mechanism names cannot be empty');
    w.cstring(m, 'SASL mechanism name');
  }
  return w.byte(0).finish();
}

export function authenticationSASLContinue(data: Uint8Array): Buffer {
  return auth(AuthCode.SASLContinue).bytes(data).finish();
}

export function authenticationSASLFinal(data: Uint8Array): Buffer {
  return auth(AuthCode.SASLFinal).bytes(data).finish();
}

export function parameterStatus(name: string, value: string): Buffer {
  return new MessageWriter(Buffer.byteLength(name) + Buffer.byteLength(value) + 7)
    .start(BackendCode.ParameterStatus)
    .cstring(name, 'parameter name')
    .cstring(value, 'parameter value')
    .finish();
}

/**
 * The key a client needs to cancel its queries. A number is a protocol 3.0 key (4 bytes); protocol
 * 3.2 allows 4 to 256 bytes, which lets a gateway make keys that cannot be guessed.
 */
export function backendKeyData(processId: number, secretKey: number | Uint8Array): Buffer {
  const w = new MessageWriter(16).start(BackendCode.BackendKeyData).int32(processId);
  if (typeof secretKey === 'number') return w.int32(secretKey).finish();
  if (secretKey.length < MIN_CANCEL_KEY_LENGTH || secretKey.length > MAX_CANCEL_KEY_LENGTH) {
    throw misuse(
      `cancel key must be ${MIN_CANCEL_KEY_LENGTH} to ${MAX_CANCEL_KEY_LENGTH} bytes, got ${secretKey.length}`,
    );
  }
  return w.bytes(secretKey).finish();
}

/**
 * Tells a client that asked for a newer minor version, or for `_pq_.` options, what this server
 * speaks: the newest minor version it supports and the options it did not recognise.
 */
export function negotiateProtocolVersion(
  newestMinor: number,
  unrecognisedOptions: readonly string[],
): Buffer {
  const w = new MessageWriter(64).start(BackendCode.NegotiateProtocolVersion).int32(newestMinor);
  w.int32(unrecognisedOptions.length);
  for (const o of unrecognisedOptions) w.cstring(o, 'protocol option name');
  return w.finish();
}

function misuse(message: string): GatewayError {
  return new GatewayError(ErrorCode.Internal, message);
}
