import { writeFileSync } from 'node:fs';
import { type Asciicast, formatAsciicast, openSessionLogReader } from '@gatehouse/session-log';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { configOption, dbOption, sessionLogPath } from '../config-source.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { jsonText } from '../output.js';
import { TerminalSanitizer } from '../terminal-sanitize.js';
import { readRecording, readSession } from './replay.js';

export type ExportFormat = 'asciicast' | 'json' | 'text';

const FORMATS: readonly string[] = ['asciicast', 'json', 'text'] satisfies ExportFormat[];

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
 * (commands, decisions, results, output…) as JSON lines, exactly as stored, hashes included, or a
 * plain-text transcript of the output streams for grep.
 */
export function exportText(args: ExportArgs, path: string): { text: string; count: number } {
  const reader = openSessionLogReader(path);
  try {
    if (args.format === 'json') {
      const { events } = readSession(reader, args.id);
      return { text: events.map((e) => `${jsonText(e)}\n`).join(''), count: events.length };
    }
    if (args.format === 'text') {
      const { cast } = readRecording(reader, args.id, false);
      return { text: transcript(cast.events), count: cast.events.length };
    }
    const { cast } = readRecording(reader, args.id, args.input);
    return { text: formatAsciicast(cast), count: cast.events.length };
  } finally {
    reader.close();
  }
}

/**
 * The output streams (stdout and stderr, as the terminal showed them) as plain text: escape
 * sequences and control characters removed, only newlines kept, so `\r\n` becomes `\n`.
 */
export function transcript(events: Asciicast['events']): string {
  const sanitizer = new TerminalSanitizer('text');
  let text = '';
  for (const [, code, data] of events) if (code === 'o') text += sanitizer.write(data);
  return text + sanitizer.end();
}

export async function exportSession(args: ExportArgs, io: ExportIo): Promise<void> {
  if (!FORMATS.includes(args.format)) {
    throw new CliError(`bad --format "${String(args.format)}" (asciicast, json or text)`, ExitCode.Usage);
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
  const what = args.format === 'json' ? 'events' : 'recording events';
  io.note(`wrote ${count} ${what}${args.format === 'text' ? ' as text' : ''} to ${args.output}`);
}

export const exportCommand: CommandModule<object, ExportArgs> = {
  command: 'export <id>',
  describe:
    'Export a session: its terminal recording (asciicast v2), all its events (JSON lines) or its output as plain text',
  builder: (y: Argv) =>
    y
      .positional('id', { type: 'string', demandOption: true, describe: 'Session id' })
      .option('db', dbOption)
      .option('config', configOption)
      .option('format', {
        choices: ['asciicast', 'json', 'text'] as const,
        default: 'asciicast' as const,
        describe:
          'asciicast: for asciinema players; json: every event, one per line; text: the output without escape sequences, for grep',
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
