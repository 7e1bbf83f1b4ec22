import { ProtocolError } from '@gatehouse/core';
import { describe, expect, it } from 'vitest';
import { FrontendDecoder } from './frontend-decoder.js';
import { encodeFrontendMessage } from './frontend-encoder.js';
import type { FrontendMessageInput } from './frontend-messages.js';
import { formatCodeAt } from './frontend-messages.js';
import { MessageWriter } from './message-writer.js';

/** One of every typed message, with the edge values each field allows. */
const typedExamples: FrontendMessageInput[] = [
  { type: 'Query', query: 'select 1' },
  { type: 'Query', query: '' },
  { type: 'Query', query: "select 'héllo ✓ 𝄞'" },
  { type: 'Query', query: `select '${'x'.repeat(100)}', '${'ü'.repeat(100)}'` },
  { type: 'Parse', statement: '', query: 'select $1::int', paramTypes: [] },
  { type: 'Parse', statement: 's1', query: 'select $1, $2', paramTypes: [23, 0xffffffff] },
  {
    type: 'Bind',
    portal: '',
    statement: 's1',
    paramFormats: [],
    params: [Buffer.from('42'), null, Buffer.alloc(0)],
    resultFormats: [],
  },
  {
    type: 'Bind',
    portal: 'p',
    statement: '',
    paramFormats: [1],
    params: [Buffer.from([0, 0, 0, 1])],
    resultFormats: [0, 1],
  },
  {
    type: 'Bind',
    portal: 'p',
    statement: '',
    paramFormats: [0, 1],
    params: [Buffer.from('x'), null],
    resultFormats: [1],
  },
  { type: 'Describe', target: 'statement', name: 's1' },
  { type: 'Describe', target: 'portal', name: '' },
  { type: 'Execute', portal: '', maxRows: 0 },
  { type: 'Execute', portal: 'c', maxRows: 2147483647 },
  { type: 'Close', target: 'statement', name: 's1' },
  { type: 'Close', target: 'portal', name: 'c' },
  { type: 'Sync' },
  { type: 'Flush' },
  { type: 'Terminate' },
  { type: 'CopyData', data: Buffer.from('1\tone\n') },
  { type: 'CopyData', data: Buffer.alloc(0) },
  { type: 'CopyDone' },
  { type: 'CopyFail', message: 'aborted by user' },
  { type: 'FunctionCall', functionOid: 1598, argFormats: [], args: [], resultFormat: 0 },
  {
    type: 'FunctionCall',
    functionOid: 764,
    argFormats: [1],
    args: [Buffer.from([0, 0, 0x40, 0]), null],
    resultFormat: 1,
  },
  { type: 'PasswordMessage', data: Buffer.from('secret\0') },
  { type: 'PasswordMessage', data: Buffer.alloc(0) },
];

describe('typed frontend messages', () => {
  it.each(typedExamples.map((m) => [m.type, m] as const))('%s round-trips', (_type, input) => {
    const bytes = encodeFrontendMessage(input);
    const out = new FrontendDecoder({ phase: 'typed' }).push(bytes);
    expect(out).toEqual([{ ...input, raw: bytes }]);
    expect(out[0]!.raw.equals(bytes)).toBe(true);
  });

  it('hands out views of the pushed chunk, not copies', () => {
    const bytes = encodeFrontendMessage(typedExamples.find((m) => m.type === 'Bind')!);
    const [m] = new FrontendDecoder({ phase: 'typed' }).push(bytes);
    expect(m!.raw.buffer).toBe(bytes.buffer);
    if (m?.type !== 'Bind') throw new Error('expected Bind');
    expect(m.params[0]!.buffer).toBe(bytes.buffer);
  });

  it('resolves format codes by the 0/1/n rule', () => {
    expect(formatCodeAt([], 3)).toBe(0);
    expect(formatCodeAt([1], 3)).toBe(1);
    expect(formatCodeAt([0, 1], 1)).toBe(1);
  });
});

const w = (code: string) => new MessageWriter().start(code.charCodeAt(0));

/** Malformed messages and the error each must produce. */
const malformed: [string, Buffer, RegExp][] = [
  [
    'Query without NUL',
    w('Q').bytes(Buffer.from('select 1')).finish(),
    /Query: query string is not NUL-terminated/,
  ],
  [
    'Query with trailing garbage',
    w('Q').cstring('select 1', '').byte(1).finish(),
    /Query: 1 unexpected bytes/,
  ],
  [
    'Parse truncated in its name',
    w('P').bytes(Buffer.from('s1')).finish(),
    /Parse: statement name is not NUL/,
  ],
  [
    'Parse with a missing count',
    w('P').cstring('', '').cstring('q', '').finish(),
    /Parse: parameter type count runs past/,
  ],
  [
    'Parse with more types than bytes',
    w('P').cstring('', '').cstring('q', '').uint16(3).uint32(23).finish(),
    /Parse: parameter types runs past the end of the message \(12 bytes needed, 4 left\)/,
  ],
  [
    'Bind with 2 format codes for 3 parameters',
    w('B')
      .cstring('', '')
      .cstring('', '')
      .uint16(2)
      .int16(0)
      .int16(0)
      .uint16(3)
      .int32(-1)
      .int32(-1)
      .int32(-1)
      .uint16(0)
      .finish(),
    /Bind: 2 parameter format codes for 3 parameters \(expected 0, 1 or 3\)/,
  ],
  [
    'Bind with format code 2',
    w('B').cstring('', '').cstring('', '').uint16(1).int16(2).uint16(0).uint16(0).finish(),
    /Bind: parameter format code 2 is neither 0 \(text\) nor 1 \(binary\)/,
  ],
  [
    'Bind with result format code -1',
    w('B').cstring('', '').cstring('', '').uint16(0).uint16(0).uint16(1).int16(-1).finish(),
    /Bind: result format code -1/,
  ],
  [
    'Bind with a parameter length of -2',
    w('B').cstring('', '').cstring('', '').uint16(0).uint16(1).int32(-2).uint16(0).finish(),
    /Bind: parameter 1 has negative length -2/,
  ],
  [
    'Bind with a parameter longer than the message',
    w('B')
      .cstring('', '')
      .cstring('', '')
      .uint16(0)
      .uint16(1)
      .int32(100)
      .bytes(Buffer.from('ab'))
      .uint16(0)
      .finish(),
    /Bind: parameter 1 declares 100 bytes but only 4 are left/,
  ],
  [
    'Bind with 65535 parameters in a tiny message',
    w('B').cstring('', '').cstring('', '').uint16(0).uint16(65535).finish(),
    /Bind: parameter values runs past the end/,
  ],
  [
    'Bind without result formats',
    w('B').cstring('', '').cstring('', '').uint16(0).uint16(0).finish(),
    /Bind: result format count runs past/,
  ],
  [
    'Describe with target X',
    w('D').byte(0x58).cstring('', '').finish(),
    /Describe: target must be 'S' or 'P', got 0x58/,
  ],
  ['Describe without a target', w('D').finish(), /Describe: target runs past/],
  [
    'Close with trailing garbage',
    w('C').byte(0x53).cstring('s', '').byte(0).finish(),
    /Close: 1 unexpected bytes/,
  ],
  ['Execute without a row limit', w('E').cstring('', '').int16(0).finish(), /Execute: row limit runs past/],
  ['CopyFail without NUL', w('f').bytes(Buffer.from('oops')).finish(), /CopyFail: error message is not NUL/],
  [
    'FunctionCall with a bad result format',
    w('F').uint32(1).uint16(0).uint16(0).int16(7).finish(),
    /FunctionCall: result format code 7/,
  ],
  [
    'FunctionCall with 3 formats for 2 args',
    w('F').uint32(1).uint16(3).int16(0).int16(0).int16(0).uint16(2).int32(-1).int32(-1).int16(0).finish(),
    /FunctionCall: 3 argument format codes for 2 arguments/,
  ],
  [
    'FunctionCall with trailing garbage',
    w('F').uint32(1).uint16(0).uint16(0).int16(0).byte(9).finish(),
    /FunctionCall: 1 unexpected/,
  ],
];

describe('malformed typed messages', () => {
  it.each(malformed)('%s', (_name, bytes, pattern) => {
    let err: unknown;
    try {
      new FrontendDecoder({ phase: 'typed' }).push(bytes);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as Error).message).toMatch(pattern);
  });
});
