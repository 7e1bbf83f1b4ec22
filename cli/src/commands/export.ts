import { writeFileSync } from 'node:fs';
import { formatAsciicast, openSessionLogReader } from '@gatehouse/session-log';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { configOption, dbOption, sessionLogPath } from '../config-source.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { readRecording, readSession } from './replay.js';

export type ExportFormat = 'asciicast' | 'json';

export interface ExportArgs {
  id: string;
  db?: string;
  config?: string;
  format: ExportFormat;
  output?: string;
  input: boolean;
}

export interface ExportIo {
  /** The exported text, when it goes to stdout. */
  write(text: string): void;
  note(text: string): void;
}

/**
 * The text of an export: an asciicast v2 recording of the terminal, or every event of the session
 * (commands, decisions, results, output…) as JSON lines, exactly as stored, hashes included.
 */
export function exportText(args: ExportArgs, path: string): { text: string; count: number } {
  const reader = openSessionLogReader(path);
  try {
    if (args.format === 'json') {
      const { events } = readSession(reader, args.id);
      return { text: events.map((e) => `${JSON.stringify(e)}\n`).join(''), count: events.length };
    }
    const { cast } = readRecording(reader, args.id, args.input);
    return { text: formatAsciicast(cast), count: cast.events.length };
  } finally {
    reader.close();
  }
}

export async function exportSession(args: ExportArgs, io: ExportIo): Promise<void> {
  if (args.format !== 'asciicast' && args.format !== 'json') {
    throw new CliError(`bad --format "${String(args.format)}" (asciicast or json)`, ExitCode.Usage);
  }
  const { text, count } = exportText(args, await sessionLogPath(args));
  if (args.output === undefined || args.output === '-') return io.write(text);
  try {
    // Recordings hold whatever the terminal showed: readable by the owner only.
    writeFileSync(args.output, text, { mode: 0o600 });
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new CliError(`cannot write ${args.output}: ${why}`, ExitCode.Failure);
  }
  io.note(`wrote ${count} ${args.format === 'json' ? 'events' : 'recording events'} to ${args.output}`);
}

export const exportCommand: CommandModule<object, ExportArgs> = {
  command: 'export <id>',
  describe: 'Export a session: its terminal recording (asciicast v2) or all its events (JSON lines)',
  builder: (y: Argv) =>
    y
      .positional('id', { type: 'string', demandOption: true, describe: 'Session id' })
      .option('db', dbOption)
      .option('config', configOption)
      .option('format', {
        choices: ['asciicast', 'json'] as const,
        default: 'asciicast' as const,
        describe: 'asciicast: for asciinema players; json: every event, one per line',
      })
      .option('output', { alias: 'o', type: 'string', describe: 'Write to this file instead of stdout' })
      .option('input', {
        type: 'boolean',
        default: false,
        describe: 'asciicast: also record what the client typed (may hold typed passwords)',
      }) as unknown as Argv<ExportArgs>,
  handler: async (args: ArgumentsCamelCase<ExportArgs>) => {
    await exportSession(args, {
      write: (text) => {
        process.stdout.write(text);
      },
      note: (text) => {
        process.stderr.write(`${text}\n`);
      },
    });
  },
};
