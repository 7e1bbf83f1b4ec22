import type { Connection } from 'ssh2';

/** SSH_OPEN_ADMINISTRATIVELY_PROHIBITED (RFC 4254 §5.1). */
export const OPEN_ADMINISTRATIVELY_PROHIBITED = 1;
/** SSH_OPEN_CONNECT_FAILED. */
export const OPEN_CONNECT_FAILED = 2;

interface ProtocolWithOpenFail {
  channelOpenFail(recipient: number, reason: number, description: string): void;
}

/**
 * Rejects a channel open with a reason code and a description the client prints
 * (`channel 2: open failed: administratively prohibited: gatehouse: denied: …`).
 *
 * ssh2's `reject()` always answers "connect failed" with no description once the channel number is
 * reserved, which would tell a refused person nothing. The reason and text are substituted for the
 * duration of that one synchronous call, on ssh2 1.17's protocol object; should that internal ever
 * change shape, the plain `reject()` still refuses the channel.
 */
export function rejectChannel(
  client: Connection,
  reject: () => void,
  reason: number,
  description: string,
): void {
  const protocol = (client as unknown as { _protocol?: Partial<ProtocolWithOpenFail> })._protocol;
  const original = protocol?.channelOpenFail;
  if (protocol === undefined || typeof original !== 'function') {
    reject();
    return;
  }
  protocol.channelOpenFail = (recipient: number) => original.call(protocol, recipient, reason, description);
  try {
    reject();
  } finally {
    protocol.channelOpenFail = original;
  }
}
