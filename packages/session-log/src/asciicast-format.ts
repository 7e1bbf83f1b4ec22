import { ProtocolError } from '@gatehouse/core';

/**
 * asciicast v2 (https://docs.asciinema.org/manual/asciicast/v2/): newline-delimited JSON, a header
 * object on the first line, then one `[time, code, data]` array per line, `time` in seconds since
 * the start of the recording. Pure: text in, values out, and malformed text fails with one
 * ProtocolError so that a fuzzer can hold the parser to exactly that.
 */

/** `o` output, `i` input, `m` marker, `r` resize (`COLSxROWS`). */
export type AsciicastCode = 'o' | 'i' | 'm' | 'r';

export type AsciicastEvent = readonly [time: number, code: AsciicastCode, data: string];

export interface AsciicastHeader {
  readonly version: 2;
  readonly width: number;
  readonly height: number;
  /** Unix time of the start of the recording, in seconds. */
  readonly timestamp?: number;
  /** Seconds. */
  readonly duration?: number;
  /** Seconds; players cap idle gaps at this. */
  readonly idle_time_limit?: number;
  readonly command?: string;
  readonly title?: string;
  readonly env?: Readonly<Record<string, string>>;
}

export interface Asciicast {
  readonly header: AsciicastHeader;
  readonly events: readonly AsciicastEvent[];
}

export interface ParseAsciicastOptions {
  /** Longest text accepted, in UTF-16 code units. Default 512 MiB. */
  readonly maxLength?: number;
}

/** Media type for `.cast` files, as the asciinema docs suggest. */
export const ASCIICAST_MEDIA_TYPE = 'application/x-asciicast';

/** Largest terminal dimension accepted; terminals report 16-bit sizes. */
const MAX_DIMENSION = 65_535;
const CODES: ReadonlySet<string> = new Set<AsciicastCode>(['o', 'i', 'm', 'r']);
const SIZE = /^(\d{1,5})x(\d{1,5})$/;

/** Renders a recording; times are written with 6 decimals (microseconds), as asciinema does. */
export function formatAsciicast(cast: Asciicast): string {
  const lines = [formatHeader(cast.header)];
  for (const [time, code, data] of cast.events) {
    lines.push(`[${formatTime(time)}, ${JSON.stringify(code)}, ${JSON.stringify(data)}]`);
  }
  return `${lines.join('\n')}\n`;
}

/** Seconds rounded to microseconds, the precision `formatAsciicast` keeps. */
export function asciicastTime(seconds: number): number {
  if (!Number.isFinite(seconds) || seconds <= 0) return 0;
  return Number(seconds.toFixed(6));
}

function formatTime(seconds: number): string {
  return asciicastTime(seconds).toFixed(6);
}

function formatHeader(h: AsciicastHeader): string {
  // Known keys in the order the asciinema docs list them.
  const header: Record<string, unknown> = { version: 2, width: h.width, height: h.height };
  if (h.timestamp !== undefined) header['timestamp'] = h.timestamp;
  if (h.duration !== undefined) header['duration'] = h.duration;
  if (h.idle_time_limit !== undefined) header['idle_time_limit'] = h.idle_time_limit;
  if (h.command !== undefined) header['command'] = h.command;
  if (h.title !== undefined) header['title'] = h.title;
  if (h.env !== undefined) header['env'] = h.env;
  return JSON.stringify(header);
}

/** Parses and validates an asciicast v2 recording. Throws a ProtocolError, and only that. */
export function parseAsciicast(text: string, opts: ParseAsciicastOptions = {}): Asciicast {
  if (typeof text !== 'string') throw new ProtocolError('asciicast: not text');
  const maxLength = opts.maxLength ?? 512 * 1024 * 1024;
  if (text.length > maxLength) {
    throw new ProtocolError(`asciicast: recording longer than ${maxLength} characters`);
  }
  const lines = text.split('\n');
  const header = parseHeader(jsonLine(lines[0] ?? '', 1));
  const events: AsciicastEvent[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = stripCr(lines[i] as string);
    if (line.trim() === '') continue;
    events.push(parseEvent(jsonLine(line, i + 1), i + 1));
  }
  return { header, events };
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

function jsonLine(line: string, n: number): unknown {
  const text = stripCr(line);
  if (text.trim() === '') throw new ProtocolError(`asciicast line ${n}: empty`);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ProtocolError(`asciicast line ${n}: not JSON`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function parseHeader(value: unknown): AsciicastHeader {
  if (!isObject(value)) throw new ProtocolError('asciicast header: not a JSON object');
  if (value['version'] !== 2) {
    throw new ProtocolError(`asciicast header: version must be 2, got ${short(value['version'])}`);
  }
  const width = dimension(value['width'], 'width');
  const height = dimension(value['height'], 'height');
  const timestamp = optionalNumber(value['timestamp'], 'timestamp');
  const duration = optionalNumber(value['duration'], 'duration');
  const idle = optionalNumber(value['idle_time_limit'], 'idle_time_limit');
  const command = optionalString(value['command'], 'command');
  const title = optionalString(value['title'], 'title');
  const env = parseEnv(value['env']);
  return {
    version: 2,
    width,
    height,
    ...(timestamp === undefined ? {} : { timestamp }),
    ...(duration === undefined ? {} : { duration }),
    ...(idle === undefined ? {} : { idle_time_limit: idle }),
    ...(command === undefined ? {} : { command }),
    ...(title === undefined ? {} : { title }),
    ...(env === undefined ? {} : { env }),
  };
}

function dimension(value: unknown, key: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_DIMENSION) {
    throw new ProtocolError(`asciicast header: ${key} must be an integer from 1 to ${MAX_DIMENSION}`);
  }
  return value;
}

function optionalNumber(value: unknown, key: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ProtocolError(`asciicast header: ${key} must be a non-negative number`);
  }
  return value;
}

function optionalString(value: unknown, key: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new ProtocolError(`asciicast header: ${key} must be a string`);
  return value;
}

/** asciinema writes `null` for variables that were unset when it recorded; those are dropped. */
function parseEnv(value: unknown): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw new ProtocolError('asciicast header: env must be an object');
  const entries: [string, string][] = [];
  for (const [k, v] of Object.entries(value)) {
    if (v === null) continue;
    if (typeof v !== 'string') throw new ProtocolError('asciicast header: env values must be strings');
    entries.push([k, v]);
  }
  return Object.fromEntries(entries);
}

function parseEvent(value: unknown, n: number): AsciicastEvent {
  if (!Array.isArray(value) || value.length !== 3) {
    throw new ProtocolError(`asciicast line ${n}: an event is a [time, code, data] array`);
  }
  const [time, code, data] = value as [unknown, unknown, unknown];
  if (typeof time !== 'number' || !Number.isFinite(time) || time < 0) {
    throw new ProtocolError(`asciicast line ${n}: time must be a non-negative number of seconds`);
  }
  if (typeof code !== 'string' || !CODES.has(code)) {
    throw new ProtocolError(`asciicast line ${n}: unknown event code ${short(code)}`);
  }
  if (typeof data !== 'string') throw new ProtocolError(`asciicast line ${n}: data must be a string`);
  if (code === 'r' && parseSize(data) === undefined) {
    throw new ProtocolError(`asciicast line ${n}: resize data must be COLSxROWS`);
  }
  return [time, code as AsciicastCode, data];
}

/** `COLSxROWS` → size, or undefined. */
export function parseSize(text: string): { cols: number; rows: number } | undefined {
  const m = SIZE.exec(text);
  if (m === null) return undefined;
  const cols = Number(m[1]);
  const rows = Number(m[2]);
  if (cols < 1 || rows < 1 || cols > MAX_DIMENSION || rows > MAX_DIMENSION) return undefined;
  return { cols, rows };
}

function short(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}
