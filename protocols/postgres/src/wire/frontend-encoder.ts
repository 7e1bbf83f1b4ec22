import { FrontendCode, protocolVersionCode, RequestCode } from './codes.js';
import type { DescribeTarget, FrontendMessageInput } from './frontend-messages.js';
import { MessageWriter } from './message-writer.js';

/**
 * Serialises a frontend message: the inverse of FrontendDecoder. The gateway uses it when it must
 * send the upstream something other than what the client sent (a rewritten Query, its own Sync);
 * tests use it to build streams.
 */
export function encodeFrontendMessage(m: FrontendMessageInput, w = new MessageWriter()): Buffer {
  switch (m.type) {
    case 'StartupMessage':
      w.start().uint32(protocolVersionCode(m.majorVersion, m.minorVersion));
      for (const p of m.parameters) w.cstring(p.name, 'parameter name').cstring(p.value, 'parameter value');
      w.byte(0);
      break;
    case 'SSLRequest':
      w.start().uint32(RequestCode.SSLRequest);
      break;
    case 'GSSENCRequest':
      w.start().uint32(RequestCode.GSSENCRequest);
      break;
    case 'CancelRequest':
      w.start().uint32(RequestCode.CancelRequest).int32(m.processId).bytes(m.secretKey);
      break;
    case 'Query':
      w.start(FrontendCode.Query).cstring(m.query, 'query');
      break;
    case 'Parse':
      w.start(FrontendCode.Parse).cstring(m.statement, 'statement name').cstring(m.query, 'query');
      w.uint16(m.paramTypes.length);
      for (const t of m.paramTypes) w.uint32(t);
      break;
    case 'Bind':
      w.start(FrontendCode.Bind).cstring(m.portal, 'portal name').cstring(m.statement, 'statement name');
      w.uint16(m.paramFormats.length);
      for (const f of m.paramFormats) w.int16(f);
      w.uint16(m.params.length);
      for (const p of m.params) w.value(p);
      w.uint16(m.resultFormats.length);
      for (const f of m.resultFormats) w.int16(f);
      break;
    case 'Describe':
    case 'Close':
      w.start(m.type === 'Describe' ? FrontendCode.Describe : FrontendCode.Close)
        .byte(targetByte(m.target))
        .cstring(m.name, 'name');
      break;
    case 'Execute':
      w.start(FrontendCode.Execute).cstring(m.portal, 'portal name').int32(m.maxRows);
      break;
    case 'Sync':
      w.start(FrontendCode.Sync);
      break;
    case 'Flush':
      w.start(FrontendCode.Flush);
      break;
    case 'Terminate':
      w.start(FrontendCode.Terminate);
      break;
    case 'CopyData':
      w.start(FrontendCode.CopyData).bytes(m.data);
      break;
    case 'CopyDone':
      w.start(FrontendCode.CopyDone);
      break;
    case 'CopyFail':
      w.start(FrontendCode.CopyFail).cstring(m.message, 'error message');
      break;
    case 'FunctionCall':
      w.start(FrontendCode.FunctionCall).uint32(m.functionOid);
      w.uint16(m.argFormats.length);
      for (const f of m.argFormats) w.int16(f);
      w.uint16(m.args.length);
      for (const a of m.args) w.value(a);
      w.int16(m.resultFormat);
      break;
    case 'PasswordMessage':
      w.start(FrontendCode.PasswordMessage).bytes(m.data);
      break;
  }
  return w.finish();
}

function targetByte(t: DescribeTarget): number {
  return t === 'statement' ? 0x53 : 0x50;
}
