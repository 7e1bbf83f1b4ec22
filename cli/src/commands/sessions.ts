import type { StoredEvent } from '@gatehouse/core';
import { openSessionLogReader, type SessionSummary } from '@gatehouse/session-log';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { configOption, dbOption, sessionLogPath } from '../config-source.js';
import { CliError, ExitCode } from '../exit-codes.js';
import {
  formatTime,
  jsonText,
  type Output,
  paint,
  printable,
  processOutput,
  table,
  truncate,
} from '../output.js';
import { describeEvent } from './event-format.js';

interface ListArgs {
  db?: string;
  config?: string;
  connection?: string;
  user?: string;
  protocol?: string;
  since?: string;
  until?: string;
  limit: number;
  json: boolean;
}

interface ShowArgs {
  id: string;
  db?: string;
  config?: string;
  json: boolean;
}

function parseTime(value: string | undefined, flag: string): Date | undefined {
  if (value === undefined) return undefined;
  const relative = /^(\d+)([smhd])$/.exec(value);
  if (relative) {
    const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(Date.now() - Number(relative[1]) * unit);
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new CliError(
      `bad --${flag} "${value}" (use an ISO time or a relative age like 30m, 2h, 7d)`,
      ExitCode.Usage,
    );
  }
  return date;
}

function toJson(session: SessionSummary): Record<string, unknown> {
  return {
    ...session,
    startedAt: session.startedAt.toISOString(),
    ...(session.endedAt === undefined ? {} : { endedAt: session.endedAt.toISOString() }),
  };
}

const listCommand: CommandModule<object, ListArgs> = {
  command: 'list',
  describe: 'List sessions, newest first',
  builder: (y: Argv) =>
    y
      .option('db', dbOption)
      .option('config', configOption)
      .option('connection', { type: 'string', describe: 'Only this connection' })
      .option('user', { type: 'string', describe: 'Only this identity (token subject)' })
      .option('protocol', { type: 'string', describe: 'Only this protocol' })
      .option('since', { type: 'string', describe: 'Started at or after (ISO time or age: 30m, 2h, 7d)' })
      .option('until', { type: 'string', describe: 'Started before (ISO time or age)' })
      .option('limit', { type: 'number', default: 50, describe: 'At most this many sessions' })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'Machine-readable output',
      }) as unknown as Argv<ListArgs>,
  handler: async (args: ArgumentsCamelCase<ListArgs>) => {
    if (!Number.isInteger(args.limit) || args.limit < 1)
      throw new CliError('--limit must be a positive integer', ExitCode.Usage);
    const since = parseTime(args.since, 'since');
    const until = parseTime(args.until, 'until');
    const reader = openSessionLogReader(await sessionLogPath(args));
    try {
      const sessions = reader.listSessions({
        limit: args.limit,
        ...(args.connection === undefined ? {} : { connection: args.connection }),
        ...(args.user === undefined ? {} : { user: args.user }),
        ...(args.protocol === undefined ? {} : { protocol: args.protocol }),
        ...(since === undefined ? {} : { since }),
        ...(until === undefined ? {} : { until }),
      });
      const out = processOutput();
      if (args.json) return out.out(jsonText(sessions.map(toJson), 2));
      if (sessions.length === 0) return out.out('no sessions');
      out.out(
        table(
          ['SESSION', 'STARTED', 'CONNECTION', 'PROTOCOL', 'USER', 'CLIENT', 'CMDS', 'DENIED', 'ENDED'],
          sessions.map((s) => [
            s.id,
            formatTime(s.startedAt),
            printable(s.connection),
            s.protocol,
            printable(s.subject ?? '-'),
            printable(s.clientAddress),
            String(s.commands),
            String(s.denied),
            s.endedAt === undefined ? 'open' : printable(s.endReason ?? 'ended'),
          ]),
        ),
      );
    } finally {
      reader.close();
    }
  },
};

const showCommand: CommandModule<object, ShowArgs> = {
  command: 'show <id>',
  describe: 'Show one session: its header and event timeline',
  builder: (y: Argv) =>
    y
      .positional('id', { type: 'string', demandOption: true, describe: 'Session id' })
      .option('db', dbOption)
      .option('config', configOption)
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'Machine-readable output',
      }) as unknown as Argv<ShowArgs>,
  handler: async (args: ArgumentsCamelCase<ShowArgs>) => {
    const reader = openSessionLogReader(await sessionLogPath(args));
    try {
      const session = reader.getSession(args.id);
      if (session === undefined) throw new CliError(`no session ${args.id}`, ExitCode.NotFound);
      const events: StoredEvent[] = [];
      for (let after = 0; ; ) {
        const page = reader.events(args.id, { afterSeq: after, limit: 1000 });
        events.push(...page);
        if (page.length < 1000) break;
        after = page[page.length - 1]?.seq ?? after;
      }
      const out = processOutput();
      if (args.json) return out.out(jsonText({ session: toJson(session), events }, 2));
      printHeader(out, session);
      out.out('');
      const start = session.startedAt.getTime();
      for (const event of events) {
        const offset = `+${((event.ts - start) / 1000).toFixed(3)}s`.padStart(10);
        out.out(`${paint(out, 'dim', `#${event.seq}`)} ${offset}  ${describeEvent(out, event)}`);
      }
    } finally {
      reader.close();
    }
  },
};

function printHeader(out: Output, s: SessionSummary): void {
  const rows: [string, string][] = [
    ['session', s.id],
    ['connection', `${printable(s.connection)} (${s.protocol})`],
    [
      'user',
      s.subject === undefined
        ? '-'
        : `${printable(s.subject)} [${(s.groups ?? []).map((g) => printable(g)).join(', ')}]`,
    ],
    ['client', printable(s.clientAddress)],
    ['started', formatTime(s.startedAt)],
    [
      'ended',
      s.endedAt === undefined ? 'still open' : `${formatTime(s.endedAt)} (${printable(s.endReason ?? '')})`,
    ],
    ['commands', `${s.commands} (${s.denied} refused)`],
  ];
  for (const [k, v] of rows) out.out(`${paint(out, 'bold', k.padEnd(11))}${truncate(v, 200)}`);
}

export const sessionsCommand: CommandModule = {
  command: 'sessions <command>',
  describe: 'List and inspect sessions in the session log',
  builder: (y: Argv) => y.command(listCommand).command(showCommand).demandCommand(1),
  handler: () => {},
};
