import { setTimeout as delay } from 'node:timers/promises';
import { EventType, parseDuration, type StoredEvent } from '@gatehouse/core';
import {
  type Asciicast,
  buildAsciicast,
  hasRecording,
  openSessionLogReader,
  type SessionLogReader,
  type SessionSummary,
} from '@gatehouse/session-log';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { configOption, dbOption, sessionLogPath } from '../config-source.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { TerminalSanitizer } from '../terminal-sanitize.js';

export interface ReplayArgs {
  id: string;
  db?: string;
  config?: string;
  speed: number;
  maxIdle: string;
  input: boolean;
  timing: boolean;
  raw?: boolean;
}

/** Where playback goes; the command uses the process's streams, tests a capture. */
export interface PlaybackIo {
  /** Terminal bytes; resolves when the stream can take more. */
  write(text: string): Promise<void> | void;
  /** Status lines for the operator, kept off the played output. */
  note(text: string): void;
  sleep(ms: number): Promise<void>;
  now(): number;
}

export interface PlaybackOptions {
  /** 2 plays twice as fast. */
  readonly speed: number;
  /** Longest pause between two events, in ms (before `speed` applies); undefined: no cap. */
  readonly maxIdleMs: number | undefined;
  /** False: write everything at once. */
  readonly timing: boolean;
  /**
   * True: write the recording exactly as stored. Otherwise escape sequences that act on the viewer's
   * terminal (titles, clipboard, queries and reports…) are dropped; see terminal-sanitize.ts.
   */
  readonly raw?: boolean;
}

const PAGE = 1000;

/** A session and its events of the given types, in order; exit code 4 when there is no such session. */
export function readSession(
  reader: SessionLogReader,
  id: string,
  types?: readonly string[],
): { session: SessionSummary; events: StoredEvent[] } {
  const session = reader.getSession(id);
  if (session === undefined) throw new CliError(`no session ${id}`, ExitCode.NotFound);
  const events: StoredEvent[] = [];
  for (let after = 0; ; ) {
    const page = reader.events(id, {
      afterSeq: after,
      limit: PAGE,
      ...(types === undefined ? {} : { types }),
    });
    events.push(...page);
    if (page.length < PAGE) break;
    after = page[page.length - 1]?.seq ?? after;
  }
  return { session, events };
}

/** The session's terminal recording; exit code 1 with a clear message when it has none. */
export function readRecording(
  reader: SessionLogReader,
  id: string,
  includeInput: boolean,
): { session: SessionSummary; cast: Asciicast } {
  const { session, events } = readSession(reader, id, [EventType.Output]);
  const cast = buildAsciicast(session, events, { includeInput });
  if (!hasRecording(cast)) {
    throw new CliError(
      `session ${id} has no terminal recording (${session.protocol} session${
        events.length === 0 ? ' without recorded output' : ' whose recording holds no output'
      })`,
      ExitCode.Failure,
    );
  }
  return { session, cast };
}

/**
 * Plays a recording. Pauses follow the recorded times, each capped at `maxIdleMs` and divided by
 * `speed`; they are measured against a running schedule, so time spent writing does not add up
 * into drift over a long session. Output and input each have their own sanitizer, so a sequence split
 * across two events of one is carried over the other's events in between.
 */
export async function playAsciicast(cast: Asciicast, opts: PlaybackOptions, io: PlaybackIo): Promise<void> {
  const sanitizers = { o: new TerminalSanitizer(), i: new TerminalSanitizer() };
  const started = io.now();
  let schedule = 0;
  let previous = 0;
  for (const [time, code, data] of cast.events) {
    if (opts.timing) {
      const gap = Math.max(0, time - previous) * 1000;
      previous = time;
      schedule += Math.min(gap, opts.maxIdleMs ?? gap) / opts.speed;
      const wait = started + schedule - io.now();
      if (wait > 0) await io.sleep(wait);
    }
    if (code === 'r') io.note(`[terminal resized to ${data}]`);
    else if (code === 'o' || code === 'i') {
      const text = opts.raw === true ? data : sanitizers[code].write(data);
      if (text !== '') await io.write(text);
    }
  }
}

export function parseMaxIdle(value: string): number | undefined {
  const text = value.trim().toLowerCase();
  if (text === 'none' || text === 'off') return undefined;
  const ms = /^\d+(\.\d+)?$/.test(text) ? Math.round(Number(text) * 1000) : parseDuration(text);
  if (ms === undefined) {
    throw new CliError(
      `bad --max-idle "${value}" (use a duration like 2s or 500ms, or none)`,
      ExitCode.Usage,
    );
  }
  return ms;
}

export async function replay(args: ReplayArgs, io: PlaybackIo): Promise<void> {
  if (!Number.isFinite(args.speed) || args.speed <= 0) {
    throw new CliError('--speed must be a positive number', ExitCode.Usage);
  }
  const maxIdleMs = parseMaxIdle(args.maxIdle);
  const reader = openSessionLogReader(await sessionLogPath(args));
  let cast: Asciicast;
  try {
    cast = readRecording(reader, args.id, args.input).cast;
  } finally {
    reader.close();
  }
  if (args.timing)
    io.note(`[replaying session ${args.id}, recorded at ${cast.header.width}x${cast.header.height}]`);
  await playAsciicast(
    cast,
    { speed: args.speed, maxIdleMs, timing: args.timing, raw: args.raw === true },
    io,
  );
}

export function processPlayback(): PlaybackIo {
  return {
    write: (text) => {
      if (process.stdout.write(text)) return;
      return new Promise<void>((resolve) => process.stdout.once('drain', () => resolve()));
    },
    note: (text) => {
      process.stderr.write(`${text}\n`);
    },
    sleep: (ms) => delay(ms),
    now: () => performance.now(),
  };
}

export const replayCommand: CommandModule<object, ReplayArgs> = {
  command: 'replay <id>',
  describe: 'Play a terminal session back on this terminal, with its real timing',
  builder: (y: Argv) =>
    y
      .positional('id', { type: 'string', demandOption: true, describe: 'Session id' })
      .option('db', dbOption)
      .option('config', configOption)
      .option('speed', { type: 'number', default: 1, describe: 'Playback speed factor (2 = twice as fast)' })
      .option('max-idle', {
        type: 'string',
        default: '2s',
        describe: 'Cap every pause at this long (2s, 500ms, or none)',
      })
      .option('input', {
        type: 'boolean',
        default: false,
        describe: 'Also play what the client typed (may show typed passwords)',
      })
      .option('timing', {
        type: 'boolean',
        default: true,
        describe: 'Keep the recorded timing; --no-timing writes the output at once',
      })
      .option('raw', {
        type: 'boolean',
        default: false,
        describe: 'Write the output exactly as recorded, escape sequences that act on your terminal included',
      }) as unknown as Argv<ReplayArgs>,
  handler: async (args: ArgumentsCamelCase<ReplayArgs>) => {
    await replay(args, processPlayback());
  },
};
