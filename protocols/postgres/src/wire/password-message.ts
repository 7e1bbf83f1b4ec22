import type { PasswordMessage } from './frontend-messages.js';
import { MessageReader } from './message-reader.js';

/**
 * Interpretations of a 'p' message body. Which one applies depends on the authentication request the
 * server sent last, so the session layer picks; each refuses a body that does not fit exactly.
 */

/** The answer to AuthenticationCleartextPassword (or MD5Password: "md5" + 32 hex digits). */
export function readPasswordResponse(message: PasswordMessage): string {
  const r = reader(message, 'PasswordMessage');
  const password = r.cstring('password');
  r.end();
  return password;
}

export interface SASLInitialResponse {
  readonly mechanism: string;
  /** The mechanism's first message (SCRAM: client-first-message), or null when the client sent none. */
  readonly data: Buffer | null;
}

/** The first answer to AuthenticationSASL: the chosen mechanism and its initial data. */
export function readSASLInitialResponse(message: PasswordMessage): SASLInitialResponse {
  const r = reader(message, 'SASLInitialResponse');
  const mechanism = r.cstring('mechanism name');
  const len = r.int32('initial response length');
  let data: Buffer | null = null;
  if (len === -1) data = null;
  else if (len < 0) r.fail(`initial response has negative length ${len}`);
  else if (len !== r.remaining) {
    r.fail(`initial response declares ${len} bytes but the message holds ${r.remaining}`);
  } else data = r.rest();
  r.end();
  return { mechanism, data };
}

/** Later answers to AuthenticationSASLContinue: the body is the mechanism's data as-is. */
export function readSASLResponse(message: PasswordMessage): Buffer {
  return message.data;
}

function reader(message: PasswordMessage, context: string): MessageReader {
  // Passwords come from whatever encoding the client uses; SCRAM normalises them itself, so
  // refusing non-UTF-8 here would only lock out legitimate users.
  return new MessageReader(false).reset(message.data, 0, message.data.length, context);
}
