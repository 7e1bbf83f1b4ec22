import {
  type Command,
  type CommandTicket,
  type ConnectionContext,
  ErrorCode,
  toGatewayError,
} from '@gatehouse/core';

export type Judgment =
  | { readonly ok: true; readonly ticket: CommandTicket }
  | {
      readonly ok: false;
      /** For the client: why the command does not run. */
      readonly message: string;
      /** The wait was cancelled (channel closed, Ctrl-C, shutdown): nobody is there to tell. */
      readonly cancelled: boolean;
    };

/**
 * Asks the session to judge and record a command. A review is announced first through
 * `onReview` (the policy engine is pure, so asking it ahead of the session costs nothing), so the
 * person knows why nothing happens while an approver decides.
 */
export async function judge(
  ctx: ConnectionContext,
  command: Command,
  signal: AbortSignal,
  onReview?: (message: string) => void,
  secrets: readonly string[] = [],
): Promise<Judgment> {
  const identity = ctx.session.identity;
  if (identity !== undefined && onReview !== undefined) {
    try {
      const peek = ctx.policy.decide({ connection: ctx.connection.name, identity, command });
      if (peek.action === 'review') onReview(peek.message ?? 'this command needs approval');
    } catch {
      // The session's own decision below is the one that counts.
    }
  }
  try {
    const ticket = await ctx.session.execute(command, secrets, signal);
    return { ok: true, ticket };
  } catch (err) {
    if (signal.aborted) return { ok: false, message: 'cancelled', cancelled: true };
    const error = toGatewayError(err);
    if (error.code === ErrorCode.LogUnavailable) {
      return { ok: false, message: 'the session log is unavailable, so nothing runs', cancelled: false };
    }
    return { ok: false, message: error.message, cancelled: false };
  }
}

/** Strips control characters from text that goes to a terminal (policy messages, upstream errors). */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
}
