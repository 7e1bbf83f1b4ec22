import { TextDecoder } from 'node:util';
import { EventType, type StoredEvent } from '@gatehouse/core';
import {
  type Asciicast,
  type AsciicastEvent,
  type AsciicastHeader,
  asciicastTime,
  formatAsciicast,
} from './asciicast-format.js';
import type { SessionSummary } from './reader.js';

export {
  ASCIICAST_MEDIA_TYPE,
  type Asciicast,
  type AsciicastCode,
  type AsciicastEvent,
  type AsciicastHeader,
  asciicastTime,
  formatAsciicast,
  type ParseAsciicastOptions,
  parseAsciicast,
  parseSize,
} from './asciicast-format.js';

export interface AsciicastOptions {
  /** Also record what the client typed, as `i` events. Off by default: typed passwords live there. */
  readonly includeInput?: boolean;
  /** Header title; default `<subject>@<connection> <session id>`. */
  readonly title?: string;
  /** Header env, e.g. `{ TERM: 'xterm-256color' }`. */
  readonly env?: Readonly<Record<string, string>>;
  /** Header idle_time_limit, in seconds. */
  readonly idleTimeLimit?: number;
}

/** The size a terminal gets when the recording never says. */
export const DEFAULT_TERMINAL_SIZE = { cols: 80, rows: 24 } as const;

/**
 * Turns a session's `output` events into an asciicast v2 recording. Events of other types and of
 * other sessions are skipped, so a whole event list may be passed.
 *
 * - stdout and stderr become `o` events, stdin `i` events (with `includeInput`), resizes `r`.
 * - The header's size is the last one announced before the first output (80x24 when none is).
 * - Each stream is decoded as UTF-8 on its own, with bytes of a character split across two
 *   events carried to the next one, so every `data` is well-formed text; bytes that are not
 *   UTF-8 at all become U+FFFD.
 */
export function buildAsciicast(
  session: SessionSummary,
  events: readonly StoredEvent[],
  opts: AsciicastOptions = {},
): Asciicast {
  const start = session.startedAt.getTime();
  const decoders = new Map<string, TextDecoder>();
  const out: AsciicastEvent[] = [];
  let size: { cols: number; rows: number } | undefined;
  let last = 0;
  const push = (time: number, code: 'o' | 'i' | 'r', data: string) => {
    if (data !== '') out.push([time, code, data]);
  };
  for (const event of events) {
    if (event.type !== EventType.Output || event.sessionId !== session.id) continue;
    const stream = event.data['stream'];
    const time = Math.max(last, eventTime(event, start));
    if (stream === 'resize') {
      const next = terminalSize(textOf(event.data));
      if (next === undefined) continue;
      last = time;
      if (out.length === 0) size = next;
      else push(time, 'r', `${next.cols}x${next.rows}`);
      continue;
    }
    const code = stream === 'stdout' || stream === 'stderr' ? 'o' : stream === 'stdin' ? 'i' : undefined;
    if (code === undefined || (code === 'i' && opts.includeInput !== true)) continue;
    const bytes = bytesOf(event.data);
    if (bytes === undefined) continue;
    last = time;
    push(time, code, decoderFor(decoders, stream as string).decode(bytes, { stream: true }));
  }
  // What is still carried is an incomplete character at the very end: it shows as U+FFFD.
  for (const [stream, decoder] of decoders) {
    push(last, stream === 'stdin' ? 'i' : 'o', decoder.decode());
  }
  const { cols, rows } = size ?? DEFAULT_TERMINAL_SIZE;
  const ended =
    session.endedAt === undefined ? undefined : asciicastTime((session.endedAt.getTime() - start) / 1000);
  const header: AsciicastHeader = {
    version: 2,
    width: cols,
    height: rows,
    timestamp: Math.floor(start / 1000),
    ...(ended === undefined ? {} : { duration: Math.max(ended, last) }),
    ...(opts.idleTimeLimit === undefined ? {} : { idle_time_limit: opts.idleTimeLimit }),
    title: opts.title ?? `${session.subject ?? 'unknown'}@${session.connection} ${session.id}`,
    env: { ...(opts.env ?? {}) },
  };
  return { header, events: out };
}

/** `buildAsciicast` rendered as the text of a `.cast` file. */
export function toAsciicast(
  session: SessionSummary,
  events: readonly StoredEvent[],
  opts: AsciicastOptions = {},
): string {
  return formatAsciicast(buildAsciicast(session, events, opts));
}

/** True when the events hold terminal bytes worth playing (output, not only resizes). */
export function hasRecording(cast: Asciicast): boolean {
  return cast.events.some(([, code]) => code === 'o' || code === 'i');
}

function decoderFor(decoders: Map<string, TextDecoder>, stream: string): TextDecoder {
  let decoder = decoders.get(stream);
  if (decoder === undefined) {
    // ignoreBOM: a U+FEFF the upstream printed is part of the output, not a marker to drop.
    decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
    decoders.set(stream, decoder);
  }
  return decoder;
}

/** Seconds since the session start: the event's own `t` (ms), else its commit time. */
function eventTime(event: StoredEvent, start: number): number {
  const t = event.data['t'];
  const ms = typeof t === 'number' && Number.isFinite(t) && t >= 0 ? t : event.ts - start;
  return asciicastTime(ms / 1000);
}

function bytesOf(data: Record<string, unknown>): Uint8Array | undefined {
  const value = data['data'];
  if (typeof value !== 'string') return undefined;
  return data['encoding'] === 'base64' ? Buffer.from(value, 'base64') : Buffer.from(value, 'utf8');
}

function textOf(data: Record<string, unknown>): string {
  const bytes = bytesOf(data);
  return bytes === undefined ? '' : Buffer.from(bytes).toString('utf8');
}

/**
 * A resize as the protocols record it: SSH writes `COLSxROWS`, Kubernetes passes the client's
 * resize message on as is (`{"Width":80,"Height":24}`); `{"cols":80,"rows":24}` is read too.
 */
export function terminalSize(text: string): { cols: number; rows: number } | undefined {
  const trimmed = text.trim();
  const plain = /^(\d{1,5})\s*x\s*(\d{1,5})$/i.exec(trimmed);
  if (plain !== null) return checked(Number(plain[1]), Number(plain[2]));
  if (!trimmed.startsWith('{') || trimmed.length > 1024) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  return checked(
    v['cols'] ?? v['Width'] ?? v['width'] ?? v['columns'],
    v['rows'] ?? v['Height'] ?? v['height'],
  );
}

function checked(cols: unknown, rows: unknown): { cols: number; rows: number } | undefined {
  const ok = (n: unknown): n is number =>
    typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65_535;
  return ok(cols) && ok(rows) ? { cols, rows } : undefined;
}
