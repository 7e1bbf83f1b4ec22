import { LogWriteError } from '@gatehouse/core';

/** Words an operator understands for the SQLite and file-system failures that stop the log. */
export function describeCause(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT') return 'disk full';
    if (code === 'SQLITE_READONLY_DBMOVED') return 'database file moved or deleted';
    if (code.startsWith('SQLITE_READONLY') || code === 'EROFS') return 'read-only';
    if (code === 'EACCES' || code === 'EPERM' || code === 'SQLITE_PERM' || code === 'SQLITE_AUTH') {
      return 'permission denied';
    }
    if (code.startsWith('SQLITE_IOERR') || code === 'EIO') return 'I/O error';
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
      return 'database locked by another process';
    }
    if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') return 'database corrupt';
    if (code.startsWith('SQLITE_CANTOPEN') || code === 'ENOENT') return 'cannot open the database file';
    if (code.startsWith('SQLITE_CONSTRAINT')) {
      return `write refused by the database (${(err as Error).message}); is another gateway writing to this log?`;
    }
  }
  return err instanceof Error ? err.message : String(err);
}

/**
 * `session log unavailable: disk full (/var/lib/gatehouse/log.db)`, keeping the original as cause.
 * `what` names the file when it is not the database itself.
 */
export function unavailable(path: string, err: unknown, what?: string): LogWriteError {
  const code = (err as { code?: unknown } | null)?.code;
  let cause = describeCause(err);
  if (what !== undefined)
    cause = `${what}: ${cause === 'cannot open the database file' ? 'cannot open it' : cause}`;
  return new LogWriteError(`session log unavailable: ${cause} (${path})`, {
    cause: err,
    details: {
      path,
      ...(typeof code === 'string' ? { code } : {}),
      ...(err instanceof Error ? { reason: err.message } : {}),
    },
  });
}
