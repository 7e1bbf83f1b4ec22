export { type AuthFailureSession, type AuthSuccess, ClientAuth, type KeyAuthSession } from './client-auth.js';
export { channelCommand, execCommand, hostPort, shellLineCommand } from './commands.js';
export { EchoWatch } from './interactive/echo-watch.js';
export {
  type ApproximateReason,
  DEFAULT_MAX_LINE_CHARS,
  type FeedResult,
  LineTracker,
  type LineTrackerOptions,
  type SubmittedLine,
  type TrackerMode,
  trackLines,
} from './interactive/line-tracker.js';
export {
  DEFAULT_KILL_LINE,
  type LineVerdict,
  ShellGate,
  type ShellGateIo,
  type ShellGateOptions,
} from './interactive/shell-gate.js';
export { type AlgorithmOptions, modernAlgorithms } from './keys/algorithms.js';
export { HostKeyPin } from './keys/host-key-pin.js';
export { hostKeyPath, loadOrCreateHostKey } from './keys/host-key-store.js';
export { fingerprintOf, type PublicKeyInfo, parsePublicKeyLine } from './keys/public-key.js';
export {
  checkSshConnection,
  DEFAULT_SSH_OPTIONS,
  type PublicKeyBinding,
  parseSshOptions,
  parseSshUpstream,
  type SshOptions,
  type SshUpstream,
  upstreamAccount,
} from './options.js';
export { ChannelRecorder } from './recorder.js';
export {
  decodeRequest as decodeSftpRequest,
  decodeResponse as decodeSftpResponse,
  encodeStatus as encodeSftpStatus,
  SftpFramer,
  type SftpRequest,
  type SftpResponse,
} from './sftp/sftp-codec.js';
export * from './shell/index.js';
export { createSshModule, sshModule } from './ssh-module.js';
export { HOST_KEY_MISMATCH } from './upstream.js';
