/**
 * Numbers the PostgreSQL frontend/backend protocol (3.0 and 3.2) puts on the wire. Kept in one place
 * so the decoder, the encoders and the tests agree on them.
 */

/** Request codes sent where a StartupMessage carries its protocol version. */
export const RequestCode = {
  /** 1234.5679 */
  SSLRequest: 80877103,
  /** 1234.5680 */
  GSSENCRequest: 80877104,
  /** 1234.5678 */
  CancelRequest: 80877102,
} as const;

/** The protocol versions this codec speaks: 3.0 and 3.2 (3.1 was never released but is accepted). */
export const PROTOCOL_MAJOR = 3;
export const NEWEST_PROTOCOL_MINOR = 2;

export function protocolVersionCode(major: number, minor: number): number {
  return ((major << 16) | minor) >>> 0;
}

/** Type bytes of messages a client may send once the startup packet has been accepted. */
export const FrontendCode = {
  Bind: 0x42, // B
  Close: 0x43, // C
  CopyData: 0x64, // d
  CopyDone: 0x63, // c
  CopyFail: 0x66, // f
  Describe: 0x44, // D
  Execute: 0x45, // E
  Flush: 0x48, // H
  FunctionCall: 0x46, // F
  Parse: 0x50, // P
  PasswordMessage: 0x70, // p (also GSSResponse, SASLInitialResponse, SASLResponse)
  Query: 0x51, // Q
  Sync: 0x53, // S
  Terminate: 0x58, // X
} as const;

/** Type bytes of messages the server side sends. */
export const BackendCode = {
  Authentication: 0x52, // R
  BackendKeyData: 0x4b, // K
  BindComplete: 0x32, // 2
  CloseComplete: 0x33, // 3
  CommandComplete: 0x43, // C
  CopyBothResponse: 0x57, // W
  CopyData: 0x64, // d
  CopyDone: 0x63, // c
  CopyInResponse: 0x47, // G
  CopyOutResponse: 0x48, // H
  DataRow: 0x44, // D
  EmptyQueryResponse: 0x49, // I
  ErrorResponse: 0x45, // E
  FunctionCallResponse: 0x56, // V
  NegotiateProtocolVersion: 0x76, // v
  NoData: 0x6e, // n
  NoticeResponse: 0x4e, // N
  NotificationResponse: 0x41, // A
  ParameterDescription: 0x74, // t
  ParameterStatus: 0x53, // S
  ParseComplete: 0x31, // 1
  PortalSuspended: 0x73, // s
  ReadyForQuery: 0x5a, // Z
  RowDescription: 0x54, // T
} as const;

/** Sub-codes of the Authentication ('R') message. */
export const AuthCode = {
  Ok: 0,
  CleartextPassword: 3,
  MD5Password: 5,
  SASL: 10,
  SASLContinue: 11,
  SASLFinal: 12,
} as const;

/** Text (0) or binary (1), the only format codes PostgreSQL defines. */
export type FormatCode = 0 | 1;

/**
 * PostgreSQL's own limits (src/include/libpq/pqcomm.h, postgres.c, auth.c): startup packets are capped
 * at 10,000 bytes, so are messages that carry only names and counts; authentication tokens at 65,535.
 */
export const MAX_STARTUP_PACKET_LENGTH = 10_000;
export const SMALL_MESSAGE_LIMIT = 10_000;
export const AUTH_MESSAGE_LIMIT = 65_535;
/** PostgreSQL allows 1 GiB; a gateway buffers whole messages, so the default is lower and configurable. */
export const DEFAULT_MAX_MESSAGE_LENGTH = 64 * 1024 * 1024;

/** Protocol 3.2 cancel keys are 4 to 256 bytes; 3.0 keys are exactly 4. */
export const MIN_CANCEL_KEY_LENGTH = 4;
export const MAX_CANCEL_KEY_LENGTH = 256;
