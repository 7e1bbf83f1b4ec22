/**
 * Lines typed into (or piped to) a shell in a container are judged like the lines of an SSH shell:
 * with a tty every submitted line, without one every line of the input when the program is a shell
 * reading it (`kubectl exec -i pod -- sh < script`). The SSH module's ShellGate does the work;
 * this binds it to the exec channels: judged input goes upstream on the stdin channel, refusals
 * are shown on stdout (tty) or stderr.
 */

import type { Command } from '@gatehouse/core';
import { ErrorCode, toGatewayError } from '@gatehouse/core';
import {
  LineTracker,
  type LineVerdict,
  parseShellCommand,
  ShellGate,
  type ShellParse,
  type SubmittedLine,
  shellLineCommand,
} from '@gatehouse/ssh';

export type GateMode = 'terminal' | 'raw';

/** How the SSH parser says a shell reads its commands from standard input (`sh`, `bash -s`). */
const READS_STDIN = "reads commands from the session's standard input";

export function readsShellInput(parse: Pick<ShellParse, 'reasons'>): boolean {
  return parse.reasons.some((r) => r.endsWith(READS_STDIN));
}

/** Which gate, if any, an exec needs: a tty always, a shell reading piped input too. */
export function gateModeFor(
  streams: { stdin: boolean; tty: boolean },
  parse: Pick<ShellParse, 'reasons'>,
): GateMode | undefined {
  if (!streams.stdin) return undefined;
  if (streams.tty) return 'terminal';
  return readsShellInput(parse) ? 'raw' : undefined;
}

export interface LineJudge {
  /** Runs a command through policy (and the log); rejects with the refusal. */
  execute(command: Command, signal: AbortSignal): Promise<void>;
  /** Extra attributes for each line's command (where it ran). */
  readonly where: Readonly<Record<string, unknown>>;
  readonly maxLineChars: number;
}

export async function judgeLine(
  judge: LineJudge,
  line: SubmittedLine,
  signal: AbortSignal,
): Promise<LineVerdict> {
  if (line.truncated) {
    return {
      allow: false,
      message: `the line is longer than ${judge.maxLineChars} characters and cannot be judged`,
    };
  }
  const parse = parseShellCommand(line.text, { interactive: true });
  const base = shellLineCommand(line, parse, 'exec');
  const command: Command = { ...base, attributes: { ...base.attributes, via: 'kubernetes', ...judge.where } };
  try {
    await judge.execute(command, signal);
    return { allow: true };
  } catch (err) {
    const error = toGatewayError(err);
    const cancelled = signal.aborted && error.code !== ErrorCode.PolicyDenied;
    return { allow: false, message: error.message, ...(cancelled ? { silent: true } : {}) };
  }
}

export interface GateIo {
  /** Judged bytes for the process's stdin. */
  forward(bytes: Buffer): void;
  /** Shows a refusal to the person (or script) at the client. */
  notify(text: string): void | Promise<void>;
  backpressure(paused: boolean): void;
}

export function createStdinGate(mode: GateMode, judge: LineJudge, io: GateIo): ShellGate {
  return new ShellGate(
    new LineTracker({ mode, maxLineChars: judge.maxLineChars }),
    {
      forward: io.forward,
      notify: io.notify,
      judge: (line, signal) => judgeLine(judge, line, signal),
      backpressure: io.backpressure,
    },
    { mode, maxLineBytes: judge.maxLineChars * 4 },
  );
}
