// The PostgreSQL wire codec for the client side of the gateway: decoding what clients send and
// serialising what a server answers. Pure: no sockets, no policy, no logging.

export {
  type CopyResponseOptions,
  copyBothResponse,
  copyData,
  copyDone,
  copyInResponse,
  copyOutResponse,
} from './backend-copy.js';
export {
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
  type RowField,
  readyForQuery,
  rowDescription,
  type TransactionStatus,
} from './backend-results.js';
export {
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
export {
  AuthCode,
  BackendCode,
  DEFAULT_MAX_MESSAGE_LENGTH,
  type FormatCode,
  FrontendCode,
  MAX_STARTUP_PACKET_LENGTH,
  NEWEST_PROTOCOL_MINOR,
  PROTOCOL_MAJOR,
  protocolVersionCode,
  RequestCode,
} from './codes.js';
export {
  type DataRowRewrite,
  type DataRowValue,
  encodeDataRow,
  readDataRow,
  rewriteDataRow,
} from './data-row.js';
export {
  type ErrorFields,
  type ErrorSeverity,
  errorResponse,
  type NoticeSeverity,
  noticeResponse,
} from './error-response.js';
export {
  FrontendDecoder,
  type FrontendDecoderOptions,
  type FrontendDecoderPhase,
} from './frontend-decoder.js';
export { encodeFrontendMessage } from './frontend-encoder.js';
export type * from './frontend-messages.js';
export { formatCodeAt } from './frontend-messages.js';
export { MessageWriter } from './message-writer.js';
export {
  readPasswordResponse,
  readSASLInitialResponse,
  readSASLResponse,
  type SASLInitialResponse,
} from './password-message.js';
export { getStartupParameter, protocolExtensionOptions } from './startup-packet.js';
