import type { GatewaySession } from '@gatehouse/core';

export type RecordedStream = 'stdin' | 'stdout' | 'stderr';

/**
 * Sends a channel's bytes to the session's recording, up to a limit per channel. Past the limit
 * the bytes are only counted: a 200 MB `cat > file` would otherwise be recorded at the speed of the
 * log rather than the network. The first byte past the limit is reported once, so that the log
 * says the recording is incomplete and where it stops.
 */
export class ChannelRecorder {
  readonly counts: Record<RecordedStream, number> = { stdin: 0, stdout: 0, stderr: 0 };
  #recorded = 0;
  #truncated = false;

  constructor(
    private readonly session: Pick<GatewaySession, 'output'>,
    private readonly limit: number | undefined,
    private readonly onTruncated: (recordedBytes: number) => void,
  ) {}

  record(stream: RecordedStream, data: Buffer | string): void {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    this.counts[stream] += bytes.length;
    if (this.#truncated) return;
    const room = this.limit === undefined ? bytes.length : this.limit - this.#recorded;
    if (bytes.length <= room) {
      this.#recorded += bytes.length;
      this.session.output(stream, bytes);
      return;
    }
    if (room > 0) {
      this.#recorded += room;
      this.session.output(stream, bytes.subarray(0, room));
    }
    this.#truncated = true;
    this.onTruncated(this.#recorded);
  }

  /** Counts bytes that are not to be recorded (terminal input when input recording is off). */
  count(stream: RecordedStream, bytes: number): void {
    this.counts[stream] += bytes;
  }
}
