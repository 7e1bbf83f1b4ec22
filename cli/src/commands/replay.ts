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
  idleLimit: string;
  from?: string;
  to?: string;
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
   * Recording time (ms since the session started) to start playing at. What came before is written
   * at once, so the screen shows what the session showed at that moment, as seeking in a video does.
   */
  readonly fromMs?: number;
  /** Recording time (ms) after which nothing more is played. */
  readonly toMs?: number;
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
 * across two events of one is carried over the other's events in between. Events before `fromMs`
 * are written without pauses (terminal output is stateful: a screen is everything drawn before it),
 * events after `toMs` not at all.
 */
export async function playAsciicast(cast: Asciicast, opts: PlaybackOptions, io: PlaybackIo): Promise<void> {
  const sanitizers = { o: new TerminalSanitizer(), i: new TerminalSanitizer() };
  const from = (opts.fromMs ?? 0) / 1000;
  const to = opts.toMs === undefined ? Number.POSITIVE_INFINITY : opts.toMs / 1000;
  let seeking = from > 0;
  let started = io.now();
  let schedule = 0;
  let previous = from;
  for (const [time, code, data] of cast.events) {
    if (time > to) break;
    if (seeking && time >= from) {
      // Time spent drawing what came before must not shorten the first pause.
      seeking = false;
      started = io.now();
    }
    if (opts.timing && !seeking) {
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

/** A duration in seconds (`1.5`), with units (`500ms`, `2s`), or `none`/`off` for no limit. */
export function parseIdleLimit(value: string): number | undefined {
  const text = value.trim().toLowerCase();
  if (text === 'none' || text === 'off') return undefined;
  const ms = /^\d+(\.\d+)?$/.test(text) ? Math.round(Number(text) * 1000) : parseDuration(text);
  if (ms === undefined) {
    throw new CliError(
      `bad --idle-limit "${value}" (use a duration like 2s or 500ms, or none)`,
      ExitCode.Usage,
    );
  }
  return ms;
}

/**
 * An offset into a recording, in ms: plain seconds (`90`, `1.5`), a duration (`1m30s`, `500ms`) or
 * a clock time (`1:30`, `1:02:03.5`).
 */
export function parseOffset(value: string, option: string): number {
  const text = value.trim().toLowerCase();
  let ms: number | undefined;
  if (/^\d+(\.\d+)?$/.test(text)) ms = Math.round(Number(text) * 1000);
  else if (/^\d+(:[0-5]\d){1,2}(\.\d+)?$/.test(text)) {
    ms = Math.round(text.split(':').reduce((total, part) => total * 60 + Number(part), 0) * 1000);
  } else ms = parseDuration(text);
  if (ms === undefined) {
    throw new CliError(
      `bad ${option} "${value}" (use seconds like 90, a duration like 1m30s, or a time like 1:30)`,
      ExitCode.Usage,
    );
  }
  return ms;
}

function formatOffset(ms: number): string {
  const seconds = ms / 1000;
  const m = Math.floor(seconds / 60);
  const s = +(seconds - m * 60).toFixed(3);
  return m > 0 ? `${m}m${s > 0 ? `${s}s` : ''}` : `${s}s`;
}

export async function replay(args: ReplayArgs, io: PlaybackIo): Promise<void> {
  if (!Number.isFinite(args.speed) || args.speed <= 0) {
    throw new CliError('--speed must be a positive number', ExitCode.Usage);
  }
  const maxIdleMs = parseIdleLimit(args.idleLimit);
  const fromMs = args.from === undefined ? undefined : parseOffset(args.from, '--from');
  const toMs = args.to === undefined ? undefined : parseOffset(args.to, '--to');
  if (fromMs !== undefined && toMs !== undefined && toMs <= fromMs) {
    throw new CliError(`--to (${args.to}) must be later than --from (${args.from})`, ExitCode.Usage);
  }
  const reader = openSessionLogReader(await sessionLogPath(args));
  let cast: Asciicast;
  try {
    cast = readRecording(reader, args.id, args.input).cast;
  } finally {
    reader.close();
  }
  const endMs = Math.round((cast.events.at(-1)?.[0] ?? 0) * 1000);
  if (fromMs !== undefined && fromMs > endMs) {
    throw new CliError(
      `--from ${args.from} is past the end of the recording (its last output is at ${formatOffset(endMs)})`,
      ExitCode.Usage,
    );
  }
  if (args.timing) {
    const range =
      fromMs === undefined && toMs === undefined
        ? ''
        : ` from ${formatOffset(fromMs ?? 0)}${toMs === undefined ? '' : ` to ${formatOffset(toMs)}`}`;
    io.note(`[replaying session ${args.id}${range}, recorded at ${cast.header.width}x${cast.header.height}]`);
  }
  await playAsciicast(
    cast,
    {
      speed: args.speed,
      maxIdleMs,
      timing: args.timing,
      raw: args.raw === true,
      ...(fromMs === undefined ? {} : { fromMs }),
      ...(toMs === undefined ? {} : { toMs }),
    },
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
      .option('idle-limit', {
        alias: 'max-idle',
        type: 'string',
        default: '2s',
        describe: 'Cap every pause at this long (2s, 500ms, or none)',
      })
      .option('from', {
        type: 'string',
        describe: 'Start at this point of the recording (90, 1m30s, 1:30); what came before is drawn at once',
      })
      .option('to', {
        type: 'string',
        describe: 'Stop at this point of the recording (same forms as --from)',
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
