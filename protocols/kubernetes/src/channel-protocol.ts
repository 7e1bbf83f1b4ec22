/**
 * The Kubernetes remote-command channel protocol over WebSocket (`v4.channel.k8s.io`,
 * `v5.channel.k8s.io`): every binary message starts with a channel byte. Pure.
 */

export const Channel = {
  Stdin: 0,
  Stdout: 1,
  Stderr: 2,
  /** v4+: a `Status` JSON when the process has ended. */
  Status: 3,
  /** `{"Width":…,"Height":…}` from the client. */
  Resize: 4,
  /** v5: `[255, channel]` closes that channel's direction (the client's stdin). */
  Close: 255,
} as const;

export const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;
/** Port forwarding over WebSocket: SPDY tunnelled in WebSocket (kubectl 1.31+), or the v4 channels. */
export const PORT_FORWARD_PROTOCOLS = [
  'SPDY/3.1+portforward.k8s.io',
  'portforward.k8s.io',
  'v4.channel.k8s.io',
] as const;

export interface ChannelMessage {
  readonly channel: number;
  readonly payload: Buffer;
}

export function splitChannel(data: Buffer): ChannelMessage | undefined {
  if (data.length === 0) return undefined;
  return { channel: data[0] as number, payload: data.subarray(1) };
}

export interface ExitStatus {
  /** The process's exit code, when the Status gives one (0 for Success). */
  readonly exitCode: number | undefined;
  readonly status: 'Success' | 'Failure' | 'unknown';
  readonly message: string | undefined;
  readonly reason: string | undefined;
}

/** Reads the Status the server sends on the status channel when the command ends. */
export function parseExitStatus(payload: Buffer): ExitStatus {
  let doc: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(payload.toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
    doc = parsed as Record<string, unknown>;
  } catch {
    return { exitCode: undefined, status: 'unknown', message: undefined, reason: undefined };
  }
  const message = typeof doc['message'] === 'string' ? doc['message'] : undefined;
  const reason = typeof doc['reason'] === 'string' ? doc['reason'] : undefined;
  if (doc['status'] === 'Success') return { exitCode: 0, status: 'Success', message, reason };
  let exitCode: number | undefined;
  const details = doc['details'] as { causes?: { reason?: unknown; message?: unknown }[] } | undefined;
  for (const cause of details?.causes ?? []) {
    if (cause.reason === 'ExitCode' && typeof cause.message === 'string' && /^\d{1,3}$/.test(cause.message)) {
      exitCode = Number(cause.message);
    }
  }
  return { exitCode, status: doc['status'] === 'Failure' ? 'Failure' : 'unknown', message, reason };
}

/** Offered subprotocols that the gateway relays, in the client's order of preference. */
export function relayedProtocols(offered: string | undefined, supported: readonly string[]): string[] {
  return (offered ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => supported.includes(p));
}
