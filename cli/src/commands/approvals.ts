import { parseDuration } from '@gatehouse/core';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { AdminClient, serverOption, tokenOption } from '../admin-client.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { formatTime, type Output, paint, printable, processOutput, table, truncate } from '../output.js';

/** An approval request as the admin API returns it (only the fields the CLI shows). */
export interface ApprovalView {
  id: string;
  sessionId: string;
  connection: string;
  subject: string;
  command: { protocol: string; kind: string; text: string };
  rule?: string;
  message?: string;
  createdAt: string;
  expiresAt: string;
  state: string;
  approver?: string;
  reason?: string;
  grant?: { id: string; until: string };
}

const STATES = ['pending', 'approved', 'denied', 'expired', 'cancelled'] as const;

interface CommonArgs {
  server?: string;
  token?: string;
  json: boolean;
}
interface ListArgs extends CommonArgs {
  state?: (typeof STATES)[number];
}
interface DecideArgs extends CommonArgs {
  id: string;
  reason?: string;
  window?: string;
}

/** What the handlers need; tests pass their own. */
export interface ApprovalsDeps {
  readonly client: AdminClient;
  readonly output: Output;
  readonly now: () => Date;
}

function deps(args: CommonArgs): ApprovalsDeps {
  return { client: AdminClient.fromArgs(args), output: processOutput(), now: () => new Date() };
}

export async function listApprovals(args: ListArgs, d: ApprovalsDeps): Promise<void> {
  const { approvals } = await d.client.get<{ approvals: ApprovalView[] }>('/api/approvals', {
    state: args.state,
  });
  if (args.json) return d.output.out(JSON.stringify(approvals, null, 2));
  if (approvals.length === 0) {
    return d.output.out(
      args.state === undefined ? 'no approval requests' : `no ${args.state} approval requests`,
    );
  }
  d.output.out(approvalsTable(approvals, d.now(), d.output));
}

export function approvalsTable(approvals: readonly ApprovalView[], now: Date, output: Output): string {
  return table(
    ['ID', 'AGE', 'SUBJECT', 'CONNECTION', 'COMMAND', 'RULE', 'STATE'],
    approvals.map((a) => [
      printable(a.id),
      formatAge(now.getTime() - Date.parse(a.createdAt)),
      printable(a.subject),
      printable(a.connection),
      // Truncate first so an escape sequence cut in half cannot survive `printable`.
      printable(truncate(a.command.text, 60)),
      printable(a.rule ?? '-'),
      // Last column, so colour codes do not upset the alignment of the others.
      paintState(output, a.state),
    ]),
  );
}

function paintState(output: Output, state: string): string {
  const text = printable(state);
  if (state === 'pending') return paint(output, 'yellow', text);
  if (state === 'approved') return paint(output, 'green', text);
  if (state === 'denied') return paint(output, 'red', text);
  return paint(output, 'dim', text);
}

/** `45s`, `12m`, `3h`, `2d`: how long ago, as approvers think about a queue. */
export function formatAge(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '0s';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

export async function decideApproval(
  verb: 'approve' | 'deny',
  args: DecideArgs,
  d: ApprovalsDeps,
): Promise<void> {
  const body: Record<string, unknown> = {};
  if (args.reason !== undefined) body['reason'] = args.reason;
  if (args.window !== undefined) {
    const ms = parseDuration(args.window);
    if (ms === undefined || ms <= 0) {
      throw new CliError(`bad --window "${args.window}" (use a duration such as 30m or 1h)`, ExitCode.Usage);
    }
    body['scope'] = { window: args.window };
  }
  const { approval } = await d.client.post<{ approval: ApprovalView }>(
    `/api/approvals/${encodeURIComponent(args.id)}/${verb}`,
    body,
  );
  if (args.json) return d.output.out(JSON.stringify(approval, null, 2));
  const o = d.output;
  const what = `${printable(truncate(approval.command.text, 80))} (${printable(approval.subject)} on ${printable(approval.connection)})`;
  const done = verb === 'approve' ? paint(o, 'green', 'approved') : paint(o, 'red', 'denied');
  o.out(`${done} ${printable(approval.id)}: ${what}`);
  if (approval.grant !== undefined) {
    o.out(
      `the same command is allowed for ${printable(approval.subject)} on ${printable(approval.connection)} until ${formatTime(approval.grant.until)}`,
    );
  }
}

const common = (y: Argv) =>
  y
    .option('server', serverOption)
    .option('token', tokenOption)
    .option('json', { type: 'boolean', default: false, describe: 'Machine-readable output' });

const listCommand: CommandModule<object, ListArgs> = {
  command: 'list',
  describe: 'List approval requests, oldest first',
  builder: (y: Argv) =>
    common(y).option('state', {
      choices: STATES,
      describe: 'Only requests in this state',
    }) as unknown as Argv<ListArgs>,
  handler: (args: ArgumentsCamelCase<ListArgs>) => listApprovals(args, deps(args)),
};

const approveCommand: CommandModule<object, DecideArgs> = {
  command: 'approve <id>',
  describe: 'Approve a held command; with --window, also the same command for a while',
  builder: (y: Argv) =>
    common(y)
      .positional('id', { type: 'string', demandOption: true, describe: 'Approval request id (apr_…)' })
      .option('reason', { type: 'string', describe: 'Why; recorded in the session log' })
      .option('window', {
        type: 'string',
        describe: 'Also allow the same command, same identity and connection, for this long (e.g. 30m)',
      }) as unknown as Argv<DecideArgs>,
  handler: (args: ArgumentsCamelCase<DecideArgs>) => decideApproval('approve', args, deps(args)),
};

const denyCommand: CommandModule<object, DecideArgs> = {
  command: 'deny <id>',
  describe: 'Deny a held command; the client gets an error',
  builder: (y: Argv) =>
    common(y)
      .positional('id', { type: 'string', demandOption: true, describe: 'Approval request id (apr_…)' })
      .option('reason', {
        type: 'string',
        describe: 'Why; recorded and shown to the client',
      }) as unknown as Argv<DecideArgs>,
  handler: (args: ArgumentsCamelCase<DecideArgs>) => decideApproval('deny', args, deps(args)),
};

/**
 * `gatehouse approvals list|approve|deny`, over the admin API. Exit codes: 0 done; 1 the server
 * could not be reached, refused the token, or refused the decision (403 not an approver or own
 * request, 409 already decided) — its message is printed; 2 bad usage (including a 400 from the
 * server); 4 no such request.
 */
export const approvalsCommand: CommandModule = {
  command: 'approvals <command>',
  describe: 'List, approve and deny commands held for review',
  builder: (y: Argv) =>
    y
      .command(listCommand)
      .command(approveCommand)
      .command(denyCommand)
      .demandCommand(1, 'Name an approvals command: list, approve or deny'),
  handler: () => {},
};
