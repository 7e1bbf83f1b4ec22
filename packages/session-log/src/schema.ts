import type Database from 'better-sqlite3';

export const SCHEMA_VERSION = 1;

/**
 * Event types with a partial index (see below). A query can use a partial index only when its
 * WHERE clause repeats the index's term literally, so queries on these types name them inline.
 */
export const INDEXED_TYPES: ReadonlySet<string> = new Set(['session.start', 'approval']);

export const APPEND_ONLY_MESSAGE = 'session log is append-only';

/**
 * How many events may be appended before the per-session index catches up. A live index on
 * session_id costs one dirty page per concurrent session per commit (each session's entries sit in
 * a different leaf), which halved throughput; indexing in bulk touches those pages once per run.
 * Queries read the index plus at most this many unindexed events.
 */
export const INDEX_LAG = 2048;

/*
 * Types looked up across sessions have partial indexes of their own: "session.start rows newest
 * first" (the sessions view) and approvals (recovered at start) are backwards and forwards scans of
 * a small index. A live index over every event's type would cost a dirty page per event type in
 * every commit — the commands, decisions and results of each statement land in three different
 * leaves — which more than doubled the WAL frames written per commit. Queries on other types read
 * session_events plus the unindexed tail by sequence number.
 *
 * session_events is derived from events (verify checks that it matches); index_runs records how far
 * it reaches. Both are append-only like the log itself. Queries read it and, for the unindexed
 * tail, events itself, each with the session in the WHERE clause: a UNION ALL view over the two
 * is not pushed down into correlated subqueries and turns every lookup into a full scan.
 *
 * The insert trigger keeps ordinary SQL from writing anything but the next link of the chain; the
 * hash itself is checked by verify, not here, because SQLite has no SHA-256.
 */
/** Last event covered by session_events; events after it are found through the rowid. */
export const UPTO = '(SELECT coalesce(max(upto), 0) FROM index_runs)';

/** A decision that denied, or an approval that did not approve: a refused command. */
const REFUSED = (t: string) =>
  `((${t}.type = 'decision' AND json_extract(${t}.data, '$.action') = 'deny')
    OR (${t}.type = 'approval' AND json_extract(${t}.data, '$.status') IN ('denied', 'expired')))`;

const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY,
  ts INTEGER NOT NULL,
  session_id TEXT NOT NULL,
  type TEXT NOT NULL,
  data TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
DROP INDEX IF EXISTS events_by_type;
CREATE INDEX IF NOT EXISTS events_session_starts ON events (seq) WHERE type = 'session.start';
CREATE INDEX IF NOT EXISTS events_approvals ON events (seq) WHERE type = 'approval';
CREATE TABLE IF NOT EXISTS session_events (
  session_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  type TEXT NOT NULL,
  PRIMARY KEY (session_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS index_runs (
  upto INTEGER PRIMARY KEY
);

${appendOnly('events')}
${appendOnly('meta')}
${appendOnly('session_events')}
${appendOnly('index_runs')}
CREATE TRIGGER IF NOT EXISTS events_next_link BEFORE INSERT ON events
WHEN NEW.seq IS NOT coalesce((SELECT max(seq) FROM events), 0) + 1
  OR NEW.prev_hash IS NOT coalesce((SELECT hash FROM events WHERE seq = NEW.seq - 1), '${'0'.repeat(64)}')
BEGIN SELECT RAISE(ABORT, 'session log only accepts the next link of the chain'); END;

CREATE VIEW IF NOT EXISTS sessions AS
SELECT
  s.session_id AS id,
  s.seq AS start_seq,
  s.ts AS started_at,
  json_extract(s.data, '$.connection') AS connection,
  json_extract(s.data, '$.protocol') AS protocol,
  json_extract(s.data, '$.clientAddress') AS client_address,
  coalesce(
    (SELECT a.data FROM events a
      WHERE a.type = 'auth' AND a.seq > ${UPTO} AND a.session_id = s.session_id
        AND json_extract(a.data, '$.outcome') = 'success'
      ORDER BY a.seq DESC LIMIT 1),
    (SELECT a.data FROM session_events i JOIN events a ON a.seq = i.seq
      WHERE i.session_id = s.session_id AND i.type = 'auth' AND json_extract(a.data, '$.outcome') = 'success'
      ORDER BY i.seq DESC LIMIT 1)) AS auth_data,
  e.ts AS ended_at,
  json_extract(e.data, '$.reason') AS end_reason,
  (SELECT count(*) FROM session_events i WHERE i.session_id = s.session_id AND i.type = 'command')
  + (SELECT count(*) FROM events c
      WHERE c.type = 'command' AND c.seq > ${UPTO} AND c.session_id = s.session_id) AS commands,
  (SELECT count(*) FROM session_events i JOIN events d ON d.seq = i.seq
    WHERE i.session_id = s.session_id AND i.type IN ('decision', 'approval') AND ${REFUSED('d')})
  + (SELECT count(*) FROM events d
      WHERE d.type IN ('decision', 'approval') AND d.seq > ${UPTO} AND d.session_id = s.session_id
        AND ${REFUSED('d')}) AS denied
FROM events s
LEFT JOIN events e ON e.seq = coalesce(
  (SELECT min(i.seq) FROM session_events i WHERE i.session_id = s.session_id AND i.type = 'session.end'),
  (SELECT min(x.seq) FROM events x
    WHERE x.type = 'session.end' AND x.seq > ${UPTO} AND x.session_id = s.session_id))
WHERE s.type = 'session.start';
`;

function appendOnly(table: string): string {
  return `CREATE TRIGGER IF NOT EXISTS ${table}_no_update BEFORE UPDATE ON ${table}
BEGIN SELECT RAISE(ABORT, '${APPEND_ONLY_MESSAGE}'); END;
CREATE TRIGGER IF NOT EXISTS ${table}_no_delete BEFORE DELETE ON ${table}
BEGIN SELECT RAISE(ABORT, '${APPEND_ONLY_MESSAGE}'); END;`;
}

/** Creates or checks the schema; throws a plain Error the caller turns into a LogWriteError. */
export function applySchema(db: Database.Database): void {
  const version = readSchemaVersion(db);
  if (version !== undefined && version > SCHEMA_VERSION) {
    throw new Error(`schema version ${version} is newer than this gateway understands (${SCHEMA_VERSION})`);
  }
  db.transaction(() => {
    db.exec(SCHEMA_SQL);
    db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run(
      'schema_version',
      String(SCHEMA_VERSION),
    );
  }).immediate();
}

export function readSchemaVersion(db: Database.Database): number | undefined {
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get();
  if (table === undefined) return undefined;
  const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as
    | { value: string }
    | undefined;
  return row === undefined ? undefined : Number(row.value);
}

/** Last event covered by session_events. */
export function readIndexedUpto(db: Database.Database): number {
  return (db.prepare('SELECT coalesce(max(upto), 0) FROM index_runs').pluck().get() as number) ?? 0;
}

/** Extends session_events to cover events up to `upto`; run inside the caller's transaction. */
export function indexStatements(db: Database.Database): (from: number, upto: number) => void {
  const fill = db.prepare(
    'INSERT INTO session_events (session_id, seq, type) SELECT session_id, seq, type FROM events WHERE seq > ? AND seq <= ?',
  );
  const mark = db.prepare('INSERT INTO index_runs (upto) VALUES (?)');
  return (from, upto) => {
    if (upto <= from) return;
    fill.run(from, upto);
    mark.run(upto);
  };
}
