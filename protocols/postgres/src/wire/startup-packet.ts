import {
  MAX_CANCEL_KEY_LENGTH,
  MIN_CANCEL_KEY_LENGTH,
  NEWEST_PROTOCOL_MINOR,
  PROTOCOL_MAJOR,
  RequestCode,
} from './codes.js';
import type { StartupMessage, StartupPacket, StartupParameter } from './frontend-messages.js';
import { type MessageReader, quoteForError } from './message-reader.js';

/**
 * Decodes one untyped startup-phase packet occupying `buf[start, start + total)`, length word
 * included. The caller has already checked the length bounds.
 */
export function decodeStartupPacket(
  r: MessageReader,
  buf: Buffer,
  start: number,
  total: number,
): StartupPacket {
  const raw = buf.subarray(start, start + total);
  const end = start + total;
  r.reset(buf, start + 4, end, 'startup packet');
  const code = r.uint32('request code');
  switch (code) {
    case RequestCode.SSLRequest:
      r.reset(buf, start + 8, end, 'SSLRequest').end();
      return { type: 'SSLRequest', raw };
    case RequestCode.GSSENCRequest:
      r.reset(buf, start + 8, end, 'GSSENCRequest').end();
      return { type: 'GSSENCRequest', raw };
    case RequestCode.CancelRequest: {
      r.reset(buf, start + 8, end, 'CancelRequest');
      const processId = r.int32('process id');
      const keyLength = r.remaining;
      if (keyLength < MIN_CANCEL_KEY_LENGTH || keyLength > MAX_CANCEL_KEY_LENGTH) {
        r.fail(
          `secret key is ${keyLength} bytes, expected ${MIN_CANCEL_KEY_LENGTH} to ${MAX_CANCEL_KEY_LENGTH}`,
        );
      }
      return { type: 'CancelRequest', processId, secretKey: r.rest(), raw };
    }
  }
  const majorVersion = code >>> 16;
  const minorVersion = code & 0xffff;
  if (majorVersion !== PROTOCOL_MAJOR) {
    r.fail(
      `unsupported frontend protocol ${majorVersion}.${minorVersion}: ` +
        `the server supports ${PROTOCOL_MAJOR}.0 to ${PROTOCOL_MAJOR}.${NEWEST_PROTOCOL_MINOR}`,
    );
  }
  r.reset(buf, start + 8, end, 'StartupMessage');
  return { type: 'StartupMessage', majorVersion, minorVersion, parameters: readParameters(r), raw };
}

function readParameters(r: MessageReader): StartupParameter[] {
  const parameters: StartupParameter[] = [];
  const seen = new Set<string>();
  for (;;) {
    if (r.remaining === 0) r.fail('parameter list lacks its terminating NUL byte');
    const name = r.cstring('parameter name');
    if (name === '') break;
    if (r.remaining === 0) r.fail(`parameter ${quoteForError(name)} has no value`);
    const value = r.cstring(`value of parameter ${quoteForError(name)}`);
    // A repeated name would let a policy check one value while the server applies the other.
    if (seen.has(name)) r.fail(`parameter ${quoteForError(name)} appears more than once`);
    seen.add(name);
    parameters.push({ name, value });
  }
  r.end();
  return parameters;
}

/** The value of a startup parameter such as `user` or `database`, if the client sent it. */
export function getStartupParameter(message: StartupMessage, name: string): string | undefined {
  for (const p of message.parameters) if (p.name === name) return p.value;
  return undefined;
}

/**
 * Protocol extension options (`_pq_.*`) the client asked for. The server must list the ones it does
 * not understand in a NegotiateProtocolVersion message instead of failing.
 */
export function protocolExtensionOptions(message: StartupMessage): string[] {
  return message.parameters.filter((p) => p.name.startsWith('_pq_.')).map((p) => p.name);
}
