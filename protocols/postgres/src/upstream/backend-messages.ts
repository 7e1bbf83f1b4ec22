import { ProtocolError } from '@gatehouse/core';
import { BackendCode } from '../wire/codes.js';

/**
 * Readers for the few upstream messages the gateway must look into; everything else is relayed as
 * bytes. Each takes the whole message (type byte and length included) and throws a ProtocolError
 * on bytes that do not fit.
 */

/** Type bytes of backend messages: the wire codec's table, under the name the relay uses. */
export const Backend = BackendCode;

function fail(what: string): never {
  throw new ProtocolError(`upstream sent a malformed ${what}`);
}

function cstringAt(raw: Buffer, pos: number, what: string): [string, number] {
  const nul = raw.indexOf(0, pos);
  if (nul < 0) fail(what);
  return [raw.toString('utf8', pos, nul), nul + 1];
}

/** 'I', 'T' or 'E'. */
export function readyForQueryStatus(raw: Buffer): 'I' | 'T' | 'E' {
  const s = raw.length === 6 ? String.fromCharCode(raw[5]!) : '';
  if (s !== 'I' && s !== 'T' && s !== 'E') fail('ReadyForQuery');
  return s;
}

export function commandTag(raw: Buffer): string {
  return cstringAt(raw, 5, 'CommandComplete')[0];
}

/** Rows from a command tag: `SELECT 5`, `INSERT 0 5`, `UPDATE 5`, `COPY 5`; undefined when the tag carries none. */
export function rowsFromTag(tag: string): number | undefined {
  const space = tag.lastIndexOf(' ');
  if (space < 0) return undefined;
  const n = Number(tag.slice(space + 1));
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** Error and notice fields by their one-letter code, in wire order. */
export type MessageFields = Map<string, string>;

export function readFields(raw: Buffer): MessageFields {
  const fields: MessageFields = new Map();
  let pos = 5;
  while (pos < raw.length) {
    const letter = raw[pos]!;
    if (letter === 0) return fields;
    const [value, next] = cstringAt(raw, pos + 1, 'error or notice field');
    fields.set(String.fromCharCode(letter), value);
    pos = next;
  }
  fail('error or notice message (no terminator)');
}

/** Rebuilds an ErrorResponse or NoticeResponse from fields, keeping their order. */
export function writeFields(code: number, fields: MessageFields): Buffer {
  let size = 6;
  const parts: [number, Buffer][] = [];
  for (const [letter, value] of fields) {
    const bytes = Buffer.from(value.replaceAll('\0', ''), 'utf8');
    parts.push([letter.charCodeAt(0), bytes]);
    size += bytes.length + 2;
  }
  const out = Buffer.allocUnsafe(size);
  out[0] = code;
  out.writeInt32BE(size - 1, 1);
  let pos = 5;
  for (const [letter, bytes] of parts) {
    out[pos++] = letter;
    bytes.copy(out, pos);
    pos += bytes.length;
    out[pos++] = 0;
  }
  out[pos] = 0;
  return out;
}

export function readParameterStatus(raw: Buffer): { name: string; value: string } {
  const [name, next] = cstringAt(raw, 5, 'ParameterStatus');
  const [value] = cstringAt(raw, next, 'ParameterStatus');
  return { name, value };
}

export function readBackendKeyData(raw: Buffer): { processId: number; secretKey: Buffer } {
  if (raw.length < 13) fail('BackendKeyData');
  return { processId: raw.readInt32BE(5), secretKey: Buffer.from(raw.subarray(9)) };
}

/** The overall format of a Copy{In,Out,Both}Response: 0 textual, 1 binary. */
export function copyFormat(raw: Buffer): number {
  if (raw.length < 8) fail('copy response');
  return raw[5]!;
}

/** An Authentication message: its sub-code and the data after it. */
export function readAuthentication(raw: Buffer): { code: number; data: Buffer } {
  if (raw.length < 9) fail('Authentication message');
  return { code: raw.readInt32BE(5), data: raw.subarray(9) };
}

/** The mechanism names of AuthenticationSASL. */
export function readSaslMechanisms(data: Buffer): string[] {
  const out: string[] = [];
  let pos = 0;
  while (pos < data.length && data[pos] !== 0) {
    const nul = data.indexOf(0, pos);
    if (nul < 0) fail('AuthenticationSASL');
    out.push(data.toString('utf8', pos, nul));
    pos = nul + 1;
  }
  return out;
}
