import { ProtocolError } from '@gatehouse/core';
import type { FieldInfo } from './column-plan.js';

/**
 * The fields of a raw RowDescription message from the upstream, for a relay that forwards raw
 * messages rather than pg-protocol's parsed ones. Malformed input is a ProtocolError.
 */
export function readRowDescription(raw: Buffer): FieldInfo[] {
  if (raw.length < 7 || raw[0] !== 0x54) fail('not a RowDescription message');
  if (raw.readInt32BE(1) !== raw.length - 1) fail('length word does not match the message');
  const count = raw.readUInt16BE(5);
  const fields: FieldInfo[] = [];
  let pos = 7;
  for (let i = 0; i < count; i++) {
    const end = raw.indexOf(0, pos);
    if (end === -1 || end + 19 > raw.length) fail(`field ${i + 1} runs past the end of the message`);
    const name = raw.toString('utf8', pos, end);
    pos = end + 1;
    const format = raw.readInt16BE(pos + 16);
    if (format !== 0 && format !== 1) fail(`field ${i + 1} has format code ${format}`);
    fields.push({
      name,
      tableOID: raw.readUInt32BE(pos),
      columnAttr: raw.readInt16BE(pos + 4),
      typeOID: raw.readUInt32BE(pos + 6),
      typeSize: raw.readInt16BE(pos + 10),
      typeModifier: raw.readInt32BE(pos + 12),
      format,
    });
    pos += 18;
  }
  if (pos !== raw.length) fail('unexpected bytes after the last field');
  return fields;
}

function fail(problem: string): never {
  throw new ProtocolError(`RowDescription: ${problem}`, { details: { message: 'RowDescription' } });
}
