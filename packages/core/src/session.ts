import type { ProtocolName } from './command.js';
import type { Identity } from './identity.js';

export interface SessionInfo {
  readonly id: string;
  readonly connection: string;
  readonly protocol: ProtocolName;
  readonly clientAddress: string;
  readonly startedAt: Date;
}

/** Why a session ended. Free text is allowed; these are the reasons the gateway itself uses. */
export type EndReason =
  | 'client-closed'
  | 'upstream-closed'
  | 'auth-failed'
  | 'access-denied'
  | 'protocol-error'
  | 'upstream-error'
  | 'idle-timeout'
  | 'handshake-timeout'
  | 'gateway-shutdown'
  | 'gateway-restart'
  | 'log-unavailable'
  | 'error'
  | (string & {});

export interface AuthenticatedSession extends SessionInfo {
  readonly identity: Identity;
}
