import type { CommandResult } from '@gatehouse/core';
import type { ServerChannel } from 'ssh2';
import { EXIT_GATEWAY } from './channel-host.js';
import type { RecordedStream } from './recorder.js';

/** How an upstream command ended, as the upstream channel reported it. */
export interface ExitInfo {
  readonly code?: number;
  readonly signal?: string;
  readonly dump?: boolean;
  readonly desc?: string;
}

/** Reads the arguments of a ClientChannel `exit` event: `(code)` or `(null, signal, dump, desc)`. */
export function exitInfo(args: unknown[]): ExitInfo {
  const [code, signal, dump, desc] = args;
  if (typeof code === 'number') return { code };
  return {
    ...(typeof signal === 'string' ? { signal } : {}),
    ...(typeof dump === 'boolean' ? { dump } : {}),
    ...(typeof desc === 'string' && desc !== '' ? { desc } : {}),
  };
}

/**
 * How the upstream command ended, from the `exit` event if one was seen, else from the arguments
 * of the channel's `close` event (ssh2 passes the exit status there too). The `exit` listener is
 * attached once the channel-open promise has settled: when the whole reply of a fast command (open
 * confirmation, data, exit-status, close) arrives in one read, ssh2 emits `exit` before that, and
 * only `close` still carries the status.
 */
export function exitAtClose(seen: ExitInfo | undefined, closeArgs: unknown[]): ExitInfo | undefined {
  if (seen !== undefined) return seen;
  const info = exitInfo(closeArgs);
  return info.code === undefined && info.signal === undefined ? undefined : info;
}

/** Passes the exit status (or signal) on to the client's channel, as faithfully as the protocol allows. */
export function sendExit(stream: ServerChannel, exit: ExitInfo | undefined): void {
  try {
    if (exit?.code !== undefined) stream.exit(exit.code);
    else if (exit?.signal !== undefined)
      stream.exit(exit.signal.replace(/^SIG/, ''), exit.dump ?? false, exit.desc ?? '');
  } catch {
    // A signal name the protocol does not know: report a failure rather than nothing.
    try {
      stream.exit(EXIT_GATEWAY);
    } catch {
      // The channel is gone.
    }
  }
}

/** The logged result of an exec or shell channel. */
export function resultOf(exit: ExitInfo | undefined, counts: Record<RecordedStream, number>): CommandResult {
  const data = {
    exitStatus: exit?.code ?? null,
    signal: exit?.signal ?? null,
    stdinBytes: counts.stdin,
    stdoutBytes: counts.stdout,
    stderrBytes: counts.stderr,
  };
  const bytes = counts.stdout + counts.stderr;
  if (exit?.code !== undefined) {
    return { status: exit.code === 0 ? 'ok' : 'error', summary: `exit ${exit.code}`, bytes, data };
  }
  if (exit?.signal !== undefined) return { status: 'error', summary: `signal ${exit.signal}`, bytes, data };
  return { status: 'error', summary: 'closed without exit status', bytes, data };
}
