import { GatewayError } from '@gatehouse/core';
import { describe, expect, it } from 'vitest';
import { copyBothResponse, copyData, copyDone, copyInResponse, copyOutResponse } from './backend-copy.js';
import {
  bindComplete,
  closeComplete,
  commandComplete,
  emptyQueryResponse,
  functionCallResponse,
  noData,
  notificationResponse,
  parameterDescription,
  parseComplete,
  portalSuspended,
  readyForQuery,
  rowDescription,
} from './backend-results.js';
import {
  authenticationCleartextPassword,
  authenticationMD5Password,
  authenticationOk,
  authenticationSASL,
  authenticationSASLContinue,
  authenticationSASLFinal,
  backendKeyData,
  gssEncRequestAnswer,
  negotiateProtocolVersion,
  parameterStatus,
  sslRequestAnswer,
} from './backend-startup.js';
import { errorResponse, noticeResponse } from './error-response.js';

/** Hex with spaces and quoted ASCII, so expected bytes read like the protocol documentation. */
function hex(...parts: (string | number[])[]): Buffer {
  return Buffer.concat(
    parts.map((p) =>
      Array.isArray(p)
        ? Buffer.from(p)
        : p.startsWith("'")
          ? Buffer.from(p.slice(1, -1).replaceAll('\\0', '\0'), 'utf8')
          : Buffer.from(p.replaceAll(' ', ''), 'hex'),
    ),
  );
}

const cases: [string, Buffer, Buffer][] = [
  ['SSL yes', sslRequestAnswer(true), hex("'S'")],
  ['SSL no', sslRequestAnswer(false), hex("'N'")],
  ['GSS yes', gssEncRequestAnswer(true), hex("'G'")],
  ['GSS no', gssEncRequestAnswer(false), hex("'N'")],
  ['AuthenticationOk', authenticationOk(), hex('52 00000008 00000000')],
  ['AuthenticationCleartextPassword', authenticationCleartextPassword(), hex('52 00000008 00000003')],
  [
    'AuthenticationMD5Password',
    authenticationMD5Password(Buffer.from([1, 2, 3, 4])),
    hex('52 0000000c 00000005 01020304'),
  ],
  [
    'AuthenticationSASL',
    authenticationSASL(['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256']),
    hex('52 0000002a 0000000a', "'SCRAM-SHA-256-PLUS\\0'", "'SCRAM-SHA-256\\0'", '00'),
  ],
  [
    'AuthenticationSASLContinue',
    authenticationSASLContinue(Buffer.from('r=abc')),
    hex('52 0000000d 0000000b', "'r=abc'"),
  ],
  [
    'AuthenticationSASLFinal',
    authenticationSASLFinal(Buffer.from('v=xy')),
    hex('52 0000000c 0000000c', "'v=xy'"),
  ],
  [
    'ParameterStatus',
    parameterStatus('client_encoding', 'UTF8'),
    hex('53 00000019', "'client_encoding\\0UTF8\\0'"),
  ],
  ['BackendKeyData 3.0', backendKeyData(1234, 5678), hex('4b 0000000c 000004d2 0000162e')],
  [
    'BackendKeyData 3.2',
    backendKeyData(7, Buffer.alloc(32, 0xab)),
    hex('4b 00000028 00000007', 'ab'.repeat(32)),
  ],
  [
    'NegotiateProtocolVersion',
    negotiateProtocolVersion(2, ['_pq_.a', '_pq_.b']),
    hex('76 0000001a 00000002 00000002', "'_pq_.a\\0_pq_.b\\0'"),
  ],
  [
    'NegotiateProtocolVersion without options',
    negotiateProtocolVersion(0, []),
    hex('76 0000000c 00000000 00000000'),
  ],
  ['ReadyForQuery I', readyForQuery('I'), hex('5a 00000005 49')],
  ['ReadyForQuery T', readyForQuery('T'), hex('5a 00000005 54')],
  ['ReadyForQuery E', readyForQuery('E'), hex('5a 00000005 45')],
  ['CommandComplete', commandComplete('SELECT 1'), hex('43 0000000d', "'SELECT 1\\0'")],
  ['EmptyQueryResponse', emptyQueryResponse(), hex('49 00000004')],
  ['ParseComplete', parseComplete(), hex('31 00000004')],
  ['BindComplete', bindComplete(), hex('32 00000004')],
  ['CloseComplete', closeComplete(), hex('33 00000004')],
  ['NoData', noData(), hex('6e 00000004')],
  ['PortalSuspended', portalSuspended(), hex('73 00000004')],
  ['ParameterDescription', parameterDescription([23, 0xffffffff]), hex('74 0000000e 0002 00000017 ffffffff')],
  [
    'RowDescription',
    rowDescription([
      { name: 'id', tableOid: 16384, columnAttr: 1, typeOid: 23, typeSize: 4 },
      { name: 'n', typeOid: 25, format: 1 },
    ]),
    hex(
      '54 0000002f 0002',
      "'id\\0'",
      '00004000 0001 00000017 0004 ffffffff 0000',
      "'n\\0'",
      '00000000 0000 00000019 ffff ffffffff 0001',
    ),
  ],
  ['NotificationResponse', notificationResponse(99, 'ch', 'hi'), hex('41 0000000e 00000063', "'ch\\0hi\\0'")],
  ['FunctionCallResponse', functionCallResponse(Buffer.from([1, 2])), hex('56 0000000a 00000002 0102')],
  ['FunctionCallResponse null', functionCallResponse(null), hex('56 00000008 ffffffff')],
  [
    'CopyInResponse',
    copyInResponse({ format: 0, columnFormats: [0, 0] }),
    hex('47 0000000b 00 0002 0000 0000'),
  ],
  ['CopyOutResponse', copyOutResponse({ format: 1, columnFormats: [1] }), hex('48 00000009 01 0001 0001')],
  ['CopyBothResponse', copyBothResponse({ format: 0, columnFormats: [] }), hex('57 00000007 00 0000')],
  ['CopyData', copyData(Buffer.from('a\n')), hex('64 00000006', "'a\\n'".replace('\\n', '\n'))],
  ['CopyDone', copyDone(), hex('63 00000004')],
  [
    'ErrorResponse',
    errorResponse({ severity: 'ERROR', code: '42501', message: 'permission denied' }),
    hex('45 0000002d', "'SERROR\\0VERROR\\0C42501\\0Mpermission denied\\0'", '00'),
  ],
  [
    'NoticeResponse',
    noticeResponse({ severity: 'NOTICE', code: '00000', message: 'hi', line: 12 }),
    hex('4e 00000024', "'SNOTICE\\0VNOTICE\\0C00000\\0Mhi\\0L12\\0'", '00'),
  ],
];

describe('backend serializers', () => {
  it.each(cases)('%s matches the documented bytes', (_name, actual, expected) => {
    expect(actual.toString('hex')).toBe(expected.toString('hex'));
    if (actual.length > 1) expect(actual.readInt32BE(1)).toBe(actual.length - 1);
  });

  it('writes every error field by its letter, in a stable order, without NULs', () => {
    const b = errorResponse({
      routine: 'R',
      line: 7,
      file: 'F',
      constraint: 'n',
      dataType: 'd',
      column: 'c',
      table: 't',
      schema: 's',
      where: 'W',
      internalQuery: 'q',
      internalPosition: 3,
      position: '5',
      hint: 'H',
      detail: 'bad\0byte',
      message: 'M',
      code: 'XX000',
      severityNonLocalized: 'FATAL',
      severity: 'FATAL',
    });
    const fields = b.subarray(5, -1).toString('utf8').split('\0').slice(0, -1);
    expect(fields).toEqual([
      'SFATAL',
      'VFATAL',
      'CXX000',
      'MM',
      'Dbadbyte',
      'HH',
      'P5',
      'p3',
      'qq',
      'WW',
      'ss',
      'tt',
      'cc',
      'dd',
      'nn',
      'FF',
      'L7',
      'RR',
    ]);
    expect(b.readInt32BE(1)).toBe(b.length - 1);
  });

  it('refuses values it cannot encode as a caller bug', () => {
    expect(() => commandComplete('a\0b')).toThrow(GatewayError);
    expect(() => backendKeyData(1, Buffer.alloc(3))).toThrow(/4 to 256 bytes/);
    expect(() => backendKeyData(1, Buffer.alloc(257))).toThrow(/4 to 256 bytes/);
    expect(() => authenticationMD5Password(Buffer.alloc(5))).toThrow(/4 bytes/);
    expect(() => authenticationSASL([])).toThrow(/at least one/);
    expect(() => authenticationSASL([''])).toThrow(/empty/);
  });

  it('encodes multi-byte text by its UTF-8 length', () => {
    const b = commandComplete('é');
    expect(b.readInt32BE(1)).toBe(4 + 2 + 1);
  });
});
