import Database from 'better-sqlite3';

const BUSY_TIMEOUT_MS = 5000;
const WAL_AUTOCHECKPOINT_PAGES = 4000;
const JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024;

/**
 * Opens the log's database for writing with the settings every write connection needs (they are
 * per connection, except WAL mode, which is stored in the file).
 */
export function openWriteConnection(path: string, synchronous: 'full' | 'normal'): Database.Database {
  const db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
  try {
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new Error(`cannot switch to WAL mode (got ${String(mode)})`);
    db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    // Fewer, larger checkpoints: pages rewritten by many commits are copied back once.
    db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT}`);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}
