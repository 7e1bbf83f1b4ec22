import Database from 'better-sqlite3';

/**
 * How long a write waits for a lock held by another connection. The gateway's own connections
 * never hold the write lock against each other (the checkpointer's passive checkpoints do not take
 * it), so waiting means another process writes to the log — a mistake that should fail fast rather
 * than stall the event loop.
 */
const WRITE_BUSY_TIMEOUT_MS = 250;
/** Opening and checking the log at start may wait for a checkpoint of a previous run to finish. */
const OPEN_BUSY_TIMEOUT_MS = 5000;

/**
 * Opens the log's database for writing: WAL mode, `synchronous = NORMAL` (a commit is written to
 * the WAL and survives a crash of the process; the log syncs the WAL itself when commits must
 * survive power loss), no automatic checkpoints (a checkpoint syncs the database file, which must
 * not happen inside a commit on the event loop; the checkpointer thread runs them). When the WAL
 * starts over it is cut back to `walLimitBytes`, so that its file size keeps telling how much was
 * written since (the log decides when to checkpoint from it).
 */
export function openWriteConnection(path: string, walLimitBytes: number): Database.Database {
  const db = openWalConnection(path, WRITE_BUSY_TIMEOUT_MS);
  try {
    db.pragma('synchronous = NORMAL');
    db.pragma('wal_autocheckpoint = 0');
    db.pragma(`journal_size_limit = ${Math.floor(walLimitBytes)}`);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** Opens the log's database in WAL mode with the settings every connection that writes needs. */
export function openWalConnection(path: string, busyTimeoutMs = OPEN_BUSY_TIMEOUT_MS): Database.Database {
  const db = new Database(path, { timeout: busyTimeoutMs });
  try {
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new Error(`cannot switch to WAL mode (got ${String(mode)})`);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}
