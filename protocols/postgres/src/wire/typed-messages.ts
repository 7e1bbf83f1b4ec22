import { type FormatCode, FrontendCode } from './codes.js';
import type { DescribeTarget, TypedFrontendMessage } from './frontend-messages.js';
import type { MessageReader } from './message-reader.js';

/** Message names by type byte, for error texts; also the set of type bytes a client may send. */
export const frontendMessageNames: ReadonlyMap<number, TypedFrontendMessage['type']> = new Map(
  Object.entries(FrontendCode).map(([name, code]) => [code, name as TypedFrontendMessage['type']]),
);

/**
 * Decodes one typed message occupying `buf[start, start + total)` (type byte and length included);
 * the caller has already checked the type byte and the length.
 */
export function decodeTypedMessage(
  r: MessageReader,
  buf: Buffer,
  start: number,
  total: number,
): TypedFrontendMessage {
  const code = buf[start]!;
  const raw = buf.subarray(start, start + total);
  const end = start + total;
  const body = start + 5;
  switch (code) {
    case FrontendCode.Query: {
      r.reset(buf, body, end, 'Query');
      const query = r.cstring('query string');
      r.end();
      return { type: 'Query', query, raw };
    }
    case FrontendCode.Parse: {
      r.reset(buf, body, end, 'Parse');
      const statement = r.cstring('statement name');
      const query = r.cstring('query string');
      const count = r.uint16('parameter type count');
      r.need(count * 4, 'parameter types');
      const paramTypes = new Array<number>(count);
      for (let i = 0; i < count; i++) paramTypes[i] = r.uint32('parameter type');
      r.end();
      return { type: 'Parse', statement, query, paramTypes, raw };
    }
    case FrontendCode.Bind: {
      r.reset(buf, body, end, 'Bind');
      const portal = r.cstring('portal name');
      const statement = r.cstring('statement name');
      const paramFormats = readFormatCodes(r, PARAMETER);
      const params = readValues(r, PARAMETER);
      checkFormatCount(r, paramFormats.length, params.length, PARAMETER);
      const resultFormats = readFormatCodes(r, RESULT);
      r.end();
      return { type: 'Bind', portal, statement, paramFormats, params, resultFormats, raw };
    }
    case FrontendCode.Describe:
    case FrontendCode.Close: {
      const isDescribe = code === FrontendCode.Describe;
      r.reset(buf, body, end, isDescribe ? 'Describe' : 'Close');
      const target = readTarget(r);
      const name = r.cstring(target === 'statement' ? 'statement name' : 'portal name');
      r.end();
      return { type: isDescribe ? 'Describe' : 'Close', target, name, raw };
    }
    case FrontendCode.Execute: {
      r.reset(buf, body, end, 'Execute');
      const portal = r.cstring('portal name');
      const maxRows = r.int32('row limit');
      r.end();
      return { type: 'Execute', portal, maxRows, raw };
    }
    case FrontendCode.Sync:
      r.reset(buf, body, end, 'Sync').end();
      return { type: 'Sync', raw };
    case FrontendCode.Flush:
      r.reset(buf, body, end, 'Flush').end();
      return { type: 'Flush', raw };
    case FrontendCode.Terminate:
      r.reset(buf, body, end, 'Terminate').end();
      return { type: 'Terminate', raw };
    case FrontendCode.CopyData:
      return { type: 'CopyData', data: buf.subarray(body, end), raw };
    case FrontendCode.CopyDone:
      r.reset(buf, body, end, 'CopyDone').end();
      return { type: 'CopyDone', raw };
    case FrontendCode.CopyFail: {
      r.reset(buf, body, end, 'CopyFail');
      const message = r.cstring('error message');
      r.end();
      return { type: 'CopyFail', message, raw };
    }
    case FrontendCode.FunctionCall: {
      r.reset(buf, body, end, 'FunctionCall');
      const functionOid = r.uint32('function OID');
      const argFormats = readFormatCodes(r, ARGUMENT);
      const args = readValues(r, ARGUMENT);
      checkFormatCount(r, argFormats.length, args.length, ARGUMENT);
      const resultFormat = readFormatCode(r, 'result format');
      r.end();
      return { type: 'FunctionCall', functionOid, argFormats, args, resultFormat, raw };
    }
    case FrontendCode.PasswordMessage:
      return { type: 'PasswordMessage', data: buf.subarray(body, end), raw };
    default:
      // The framing layer refuses unknown type bytes before buffering; reaching this is a bug there.
      return r.reset(buf, body, end, 'message').fail(`unknown message type 0x${code.toString(16)}`);
  }
}

function readTarget(r: MessageReader): DescribeTarget {
  const t = r.byte('target');
  if (t === 0x53) return 'statement';
  if (t === 0x50) return 'portal';
  return r.fail(`target must be 'S' or 'P', got 0x${t.toString(16)}`);
}

function readFormatCode(r: MessageReader, what: string): FormatCode {
  const c = r.int16(what);
  if (c !== 0 && c !== 1) r.fail(`${what} code ${c} is neither 0 (text) nor 1 (binary)`);
  return c;
}

/** Field names for error texts, built once rather than per message on the hot path. */
interface ListNames {
  readonly formatCount: string;
  readonly formatCodes: string;
  readonly format: string;
  readonly valueCount: string;
  readonly values: string;
  readonly valueLength: string;
  readonly value: string;
}

function listNames(value: string, format: string): ListNames {
  return {
    formatCount: `${format} count`,
    formatCodes: `${format} codes`,
    format,
    valueCount: `${value} count`,
    values: `${value} values`,
    valueLength: `${value} length`,
    value,
  };
}

const PARAMETER = listNames('parameter', 'parameter format');
const ARGUMENT = listNames('argument', 'argument format');
const RESULT = listNames('result', 'result format');

function readFormatCodes(r: MessageReader, names: ListNames): FormatCode[] {
  const count = r.uint16(names.formatCount);
  r.need(count * 2, names.formatCodes);
  const codes = new Array<FormatCode>(count);
  for (let i = 0; i < count; i++) codes[i] = readFormatCode(r, names.format);
  return codes;
}

function readValues(r: MessageReader, names: ListNames): (Buffer | null)[] {
  const count = r.uint16(names.valueCount);
  // Each value has at least its 4-byte length, so a count the message cannot hold is refused
  // before the array is allocated.
  r.need(count * 4, names.values);
  const values = new Array<Buffer | null>(count);
  for (let i = 0; i < count; i++) {
    const len = r.int32(names.valueLength);
    if (len === -1) values[i] = null;
    else if (len < 0) r.fail(`${names.value} ${i + 1} has negative length ${len}`);
    else if (len > r.remaining) {
      r.fail(`${names.value} ${i + 1} declares ${len} bytes but only ${r.remaining} are left in the message`);
    } else values[i] = r.bytes(len, names.value);
  }
  return values;
}

function checkFormatCount(r: MessageReader, formats: number, values: number, names: ListNames): void {
  if (formats > 1 && formats !== values) {
    r.fail(`${formats} ${names.format} codes for ${values} ${names.value}s (expected 0, 1 or ${values})`);
  }
}
