import type { ConnectionContext } from '@gatehouse/core';
import type { AuthSuccess } from './client-auth.js';
import type { SshOptions } from './options.js';
import type { UpstreamConnection } from './upstream.js';

/** A channel that the connection can end on its own (upstream gone, gateway shutting down). */
export interface LiveChannel {
  /** Tells the client why (stderr), sends a failing exit status where there is one, and closes. */
  terminate(message: string): void;
}

/** What a channel handler may use from the connection it belongs to. */
export interface ChannelHost {
  readonly ctx: ConnectionContext;
  readonly options: SshOptions;
  readonly auth: AuthSuccess;
  /** Aborts when the client connection closes or the gateway stops serving it. */
  readonly signal: AbortSignal;
  /** The upstream connection of this client connection (one, connected after authentication). */
  upstream(): Promise<UpstreamConnection>;
  /** Registers a live channel; returns the function that unregisters it. */
  track(channel: LiveChannel): () => void;
}

/** Exit status when policy refuses a command (the shell's "cannot execute"). */
export const EXIT_DENIED = 126;
/** Exit status when the gateway or the upstream fails (what OpenSSH's ssh returns for its own errors). */
export const EXIT_GATEWAY = 255;
