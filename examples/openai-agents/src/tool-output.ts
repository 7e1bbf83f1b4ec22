/**
 * What a tool hands back to the model is text. Gatehouse's refusals — a statement a rule denies, a
 * review an approver rejects or nobody answers in time — are ordinary outcomes for an agent, so
 * they come back as text the model can read and act on (explain, ask a human, try something
 * allowed), never as an exception that ends the run.
 */

/** The most text one tool call returns; a model's context is not a place for megabytes. */
export const MAX_TOOL_OUTPUT_CHARS = 16_000;

export function clip(text: string, max = MAX_TOOL_OUTPUT_CHARS): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}\n… (${text.length - max} more characters not shown)`;
}

/**
 * Gatehouse answers a refused command with the rule's message and id, `… (rule no-drops)` (or
 * `command not allowed by policy` when no rule matched and the default is deny), or with the
 * approval's outcome, `request apr_… was denied by alice: …` / `… was not approved in time`.
 * Saying which it was up front spares the model from guessing whether to retry.
 */
export function refusalKind(message: string): string | undefined {
  if (/\brequest apr_\w+ was denied by\b/.test(message)) return 'an approver denied this command';
  if (/\brequest apr_\w+ was not approved in time\b/.test(message)) {
    return 'nobody approved this command in time';
  }
  if (
    /\(rule [^)]+\)\s*$/.test(message) ||
    /^gatehouse: denied: /.test(message) ||
    message === 'command not allowed by policy'
  ) {
    return 'Gatehouse policy does not allow this command';
  }
  return undefined;
}

/** One line for an error object from a client library, for the model. */
export function errorText(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return errorText(err.errors[0]);
  if (err instanceof Error) return err.message === '' ? err.name : err.message;
  return String(err);
}
