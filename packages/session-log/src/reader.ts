import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type EventType, LogWriteError, type StoredEvent } from '@gatehouse/core';
import Database from 'better-sqlite3';
import { unavailable } from './log-errors.js';
import { INDEXED_TYPES, readSchemaVersion, UPTO } from './schema.js';

/** One session as derived from its events; sessions are never stored, let alone updated. */
export interface SessionSummary {
  readonly id: string;
  readonly connection: string;
  readonly protocol: string;
  readonly clientAddress: string;
  /** From the last successful `auth` event. */
  readonly subject?: string;
  readonly groups?: readonly string[];
  readonly startedAt: Date;
  readonly endedAt?: Date;
  readonly endReason?: string;
  readonly commands: number;
  /** Commands refused: `decision` events with action deny, `approval` events denied or expired. */
  readonly denied: number;
}

export interface SessionQuery {
  readonly connection?: string;
  /** The identity's subject. */
  readonly user?: string;
  readonly protocol?: string;
  /** Sessions started at or after. */
  readonly since?: Date;
  /** Sessions started before. */
  readonly until?: Date;
  /** Default 100. */
  readonly limit?: number;
}

export interface EventQuery {
  /** Only events with a greater sequence number; for paging. */
  readonly afterSeq?: number;
  /** Default 1000. */
  readonly limit?: number;
  readonly types?: readonly (EventType | (string & {}))[];
}

export interface TypeQuery {
  /** Only events with a greater sequence number; for paging. */
  readonly afterSeq?: number;
  readonly limit?: number;
}

export interface SessionLogReader {
  /** Newest first. */
  listSessions(query?: SessionQuery): SessionSummary[];
  getSession(id: string): SessionSummary | undefined;
  /** In sequence order. */
  events(sessionId: string, query?: EventQuery): StoredEvent[];
  /** Events of one type across all sessions, in sequence order; all of them unless `limit` is given. */
  eventsOfType(type: EventType | (string & {}), query?: TypeQuery): StoredEvent[];
  /** Number of events; the last sequence number, which the schema keeps contiguous. */
  eventCount(): number;
  close(): void;
}

const SESSION_COLUMNS =
  'id, started_at, connection, protocol, client_address, auth_data, ended_at, end_reason, commands, denied';
const EVENT_COLUMNS = 'seq, ts, session_id, type, data, prev_hash, hash';

interface SessionRow {
  id: string;
  started_at: number;
  connection: unknown;
  protocol: unknown;
  client_address: unknown;
  auth_data: string | null;
  ended_at: number | null;
  end_reason: unknown;
  commands: number;
  denied: number;
}

interface EventRow {
  seq: number;
  ts: number;
  session_id: string;
  type: string;
  data: string;
  prev_hash: string;
  hash: string;
}

/** Opens a read-only reader, e.g. for the CLI while a gateway keeps writing (WAL allows both). */
export function openSessionLogReader(path: string): SessionLogReader {
  const file = resolve(path);
  if (!existsSync(file))
    throw new LogWriteError(`session log not found: ${file}`, { details: { path: file } });
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true, timeout: 5000 });
    if (readSchemaVersion(db) === undefined) throw new Error('not a session log');
    return new SqliteSessionLogReader(db, true);
  } catch (err) {
    db?.close();
    if (err instanceof Error && err.message === 'not a session log') {
      throw new LogWriteError(`${file} is not a session log`, { details: { path: file } });
    }
    throw unavailable(file, err);
  }
}

export class SqliteSessionLogReader implements SessionLogReader {
  readonly #db: Database.Database;
  readonly #owned: boolean;
  readonly #statements = new Map<string, Database.Statement>();

  constructor(db: Database.Database, owned: boolean) {
    this.#db = db;
    this.#owned = owned;
  }

  listSessions(query: SessionQuery = {}): SessionSummary[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.connection !== undefined) {
      where.push('connection = ?');
      params.push(query.connection);
    }
    if (query.protocol !== undefined) {
      where.push('protocol = ?');
      params.push(query.protocol);
    }
    if (query.user !== undefined) {
      where.push("json_extract(auth_data, '$.subject') = ?");
      params.push(query.user);
    }
    if (query.since !== undefined) {
      where.push('started_at >= ?');
      params.push(query.since.getTime());
    }
    if (query.until !== undefined) {
      where.push('started_at < ?');
      params.push(query.until.getTime());
    }
    params.push(limitOf(query.limit, 100));
    const sql =
      `SELECT ${SESSION_COLUMNS} FROM sessions` +
      (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
      ' ORDER BY start_seq DESC LIMIT ?';
    return (this.#statement(sql).all(...params) as SessionRow[]).map(toSummary);
  }

  getSession(id: string): SessionSummary | undefined {
    const sql = `SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = ? ORDER BY start_seq LIMIT 1`;
    const row = this.#statement(sql).get(id) as SessionRow | undefined;
    return row === undefined ? undefined : toSummary(row);
  }

  events(sessionId: string, query: EventQuery = {}): StoredEvent[] {
    const types = query.types ?? [];
    const afterSeq = query.afterSeq ?? 0;
    const limit = limitOf(query.limit, 1000);
    const typeFilter = (alias: string) =>
      types.length > 0 ? ` AND ${alias}.type IN (${types.map(() => '?').join(', ')})` : '';
    const indexed = this.#statement(
      `SELECT e.seq, e.ts, e.session_id, e.type, e.data, e.prev_hash, e.hash
       FROM session_events i JOIN events e ON e.seq = i.seq
       WHERE i.session_id = ? AND i.seq > ?${typeFilter('i')} ORDER BY i.seq LIMIT ?`,
    );
    const tail = this.#statement(
      `SELECT ${EVENT_COLUMNS} FROM events e
       WHERE e.seq > max(?, ${UPTO}) AND e.session_id = ?${typeFilter('e')} ORDER BY e.seq LIMIT ?`,
    );
    // One snapshot for both halves, so an index run in between cannot duplicate or drop events.
    return this.#db.transaction(() => {
      const rows = indexed.all(sessionId, afterSeq, ...types, limit) as EventRow[];
      if (rows.length < limit) {
        const after = rows.length > 0 ? (rows[rows.length - 1] as EventRow).seq : afterSeq;
        rows.push(...(tail.all(after, sessionId, ...types, limit - rows.length) as EventRow[]));
      }
      return rows.map(toStoredEvent);
    })();
  }

  eventsOfType(type: string, query: TypeQuery = {}): StoredEvent[] {
    const afterSeq = query.afterSeq ?? 0;
    const limit = limitOf(query.limit, -1);
    // Inline only for the fixed set of indexed types (their partial index needs the literal term).
    const rows = INDEXED_TYPES.has(type)
      ? this.#statement(
          `SELECT ${EVENT_COLUMNS} FROM events WHERE type = '${type}' AND seq > ? ORDER BY seq LIMIT ?`,
        ).all(afterSeq, limit)
      : this.#statement(
          `SELECT ${EVENT_COLUMNS} FROM events WHERE type = ? AND seq > ? ORDER BY seq LIMIT ?`,
        ).all(type, afterSeq, limit);
    return (rows as EventRow[]).map(toStoredEvent);
  }

  eventCount(): number {
    return (this.#statement('SELECT coalesce(max(seq), 0) FROM events').pluck().get() as number) ?? 0;
  }

  close(): void {
    if (this.#owned && this.#db.open) this.#db.close();
  }

  #statement(sql: string): Database.Statement {
    let stmt = this.#statements.get(sql);
    if (stmt === undefined) {
      stmt = this.#db.prepare(sql);
      this.#statements.set(sql, stmt);
    }
    return stmt;
  }
}

/** `fallback` -1 means no limit, as SQLite reads a negative LIMIT. */
function limitOf(limit: number | undefined, fallback: number): number {
  if (limit === undefined) return fallback;
  if (!Number.isSafeInteger(limit) || limit < 0)
    throw new RangeError(`limit must be a non-negative integer, got ${limit}`);
  return limit;
}

function toSummary(row: SessionRow): SessionSummary {
  const auth = parseObject(row.auth_data);
  const subject = auth?.['subject'];
  const groups = auth?.['groups'];
  return {
    id: row.id,
    connection: String(row.connection ?? ''),
    protocol: String(row.protocol ?? ''),
    clientAddress: String(row.client_address ?? ''),
    ...(typeof subject === 'string' ? { subject } : {}),
    ...(Array.isArray(groups) ? { groups: groups.map(String) } : {}),
    startedAt: new Date(row.started_at),
    ...(row.ended_at === null ? {} : { endedAt: new Date(row.ended_at) }),
    ...(row.end_reason === null || row.end_reason === undefined ? {} : { endReason: String(row.end_reason) }),
    commands: row.commands,
    denied: row.denied,
  };
}

export function toStoredEvent(row: EventRow): StoredEvent {
  return {
    seq: row.seq,
    ts: row.ts,
    sessionId: row.session_id,
    type: row.type as EventType,
    // A row edited by hand may not even be JSON; the reader still shows it, verify flags it.
    data: parseObject(row.data) ?? { unreadable: row.data },
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

function parseObject(text: string | null): Record<string, unknown> | undefined {
  if (text === null) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
