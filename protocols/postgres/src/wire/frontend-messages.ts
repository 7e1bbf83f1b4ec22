import type { FormatCode } from './codes.js';

/**
 * Messages a PostgreSQL client sends, as the decoder produces them. `raw` is the whole message as it
 * arrived (type byte and length included), so a relay can forward it upstream without re-serialising.
 * Buffers (`raw`, parameter values, CopyData) are views into the decoder's input: do not mutate the
 * chunks you push, and copy a view if you keep it long after the chunk would otherwise be freed.
 */

export interface StartupParameter {
  readonly name: string;
  readonly value: string;
}

export interface StartupMessage {
  readonly type: 'StartupMessage';
  readonly majorVersion: number;
  readonly minorVersion: number;
  /** In the order the client sent them; names are unique. */
  readonly parameters: readonly StartupParameter[];
  readonly raw: Buffer;
}

export interface SSLRequest {
  readonly type: 'SSLRequest';
  readonly raw: Buffer;
}

export interface GSSENCRequest {
  readonly type: 'GSSENCRequest';
  readonly raw: Buffer;
}

export interface CancelRequest {
  readonly type: 'CancelRequest';
  readonly processId: number;
  /** 4 bytes for protocol 3.0, up to 256 for 3.2. */
  readonly secretKey: Buffer;
  readonly raw: Buffer;
}

export type StartupPacket = StartupMessage | SSLRequest | GSSENCRequest | CancelRequest;

export interface Query {
  readonly type: 'Query';
  readonly query: string;
  readonly raw: Buffer;
}

export interface Parse {
  readonly type: 'Parse';
  /** '' is the unnamed statement. */
  readonly statement: string;
  readonly query: string;
  /** 0 leaves a parameter's type to the server. */
  readonly paramTypes: readonly number[];
  readonly raw: Buffer;
}

export interface Bind {
  readonly type: 'Bind';
  readonly portal: string;
  readonly statement: string;
  /** Empty (all text), one (applies to all) or one per parameter; see `formatCodeAt`. */
  readonly paramFormats: readonly FormatCode[];
  /** null is SQL NULL. */
  readonly params: readonly (Buffer | null)[];
  readonly resultFormats: readonly FormatCode[];
  readonly raw: Buffer;
}

export type DescribeTarget = 'statement' | 'portal';

export interface Describe {
  readonly type: 'Describe';
  readonly target: DescribeTarget;
  readonly name: string;
  readonly raw: Buffer;
}

export interface Execute {
  readonly type: 'Execute';
  readonly portal: string;
  /** 0 means no limit. */
  readonly maxRows: number;
  readonly raw: Buffer;
}

export interface Close {
  readonly type: 'Close';
  readonly target: DescribeTarget;
  readonly name: string;
  readonly raw: Buffer;
}

export interface Sync {
  readonly type: 'Sync';
  readonly raw: Buffer;
}

export interface Flush {
  readonly type: 'Flush';
  readonly raw: Buffer;
}

export interface Terminate {
  readonly type: 'Terminate';
  readonly raw: Buffer;
}

export interface CopyData {
  readonly type: 'CopyData';
  readonly data: Buffer;
  readonly raw: Buffer;
}

export interface CopyDone {
  readonly type: 'CopyDone';
  readonly raw: Buffer;
}

export interface CopyFail {
  readonly type: 'CopyFail';
  readonly message: string;
  readonly raw: Buffer;
}

export interface FunctionCall {
  readonly type: 'FunctionCall';
  readonly functionOid: number;
  readonly argFormats: readonly FormatCode[];
  readonly args: readonly (Buffer | null)[];
  readonly resultFormat: FormatCode;
  readonly raw: Buffer;
}

/**
 * The 'p' message. Its body means different things depending on what the server asked for (a
 * cleartext or MD5 password, GSSAPI data, SASLInitialResponse, SASLResponse), which only the
 * authentication state knows, so it is kept raw; see password-message.ts to interpret it.
 */
export interface PasswordMessage {
  readonly type: 'PasswordMessage';
  readonly data: Buffer;
  readonly raw: Buffer;
}

export type TypedFrontendMessage =
  | Query
  | Parse
  | Bind
  | Describe
  | Execute
  | Close
  | Sync
  | Flush
  | Terminate
  | CopyData
  | CopyDone
  | CopyFail
  | FunctionCall
  | PasswordMessage;

export type FrontendMessage = StartupPacket | TypedFrontendMessage;

export type FrontendMessageType = FrontendMessage['type'];

/** Omit that keeps a union a union. */
type WithoutRaw<T> = T extends unknown ? Omit<T, 'raw'> : never;

/** What `encodeFrontendMessage` takes: a message without its raw bytes. */
export type FrontendMessageInput = WithoutRaw<FrontendMessage>;

/**
 * Resolves the format of value `index` under the protocol's rule: no codes means text, one code
 * applies to every value, otherwise one code per value.
 */
export function formatCodeAt(codes: readonly FormatCode[], index: number): FormatCode {
  if (codes.length === 0) return 0;
  if (codes.length === 1) return codes[0]!;
  return codes[index] ?? 0;
}
