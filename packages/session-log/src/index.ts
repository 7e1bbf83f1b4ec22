export {
  ASCIICAST_MEDIA_TYPE,
  type Asciicast,
  type AsciicastCode,
  type AsciicastEvent,
  type AsciicastHeader,
  type AsciicastOptions,
  asciicastTime,
  buildAsciicast,
  DEFAULT_TERMINAL_SIZE,
  formatAsciicast,
  hasRecording,
  type ParseAsciicastOptions,
  parseAsciicast,
  parseSize,
  terminalSize,
  toAsciicast,
} from './asciicast.js';
export type { RedactHook } from './chain.js';
export { GENESIS_HASH } from './chain.js';
export { FailingSessionLog, type FailingSessionLogOptions } from './failing-session-log.js';
export { MemorySessionLog, type MemorySessionLogOptions } from './memory-session-log.js';
export {
  type EventQuery,
  openSessionLogReader,
  type SessionLogReader,
  type SessionQuery,
  type SessionSummary,
  type TypeQuery,
} from './reader.js';
export { REDACTED } from './redact.js';
export { openSessionLog, type SessionLog, type SessionLogOptions } from './session-log.js';
export {
  type Checkpoint,
  parseCheckpoint,
  type VerifyOptions,
  type VerifyResult,
  verifySessionLog,
} from './verify.js';
