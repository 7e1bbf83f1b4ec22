/**
 * Entry point of the session log's checkpointer thread (see checkpointer.ts). Started with the
 * database path as workerData; not imported by anything else.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { FromCheckpointer, ToCheckpointer } from './checkpointer.js';
import { openWalConnection } from './connection.js';

const port = parentPort;
if (port === null) throw new Error('checkpoint-worker.js runs as a worker thread only');
const post = (message: FromCheckpointer) => port.postMessage(message);
const problem = (err: unknown) =>
  post({ kind: 'problem', message: (err as Error).message, code: (err as { code?: string }).code });

let db: ReturnType<typeof openWalConnection>;
try {
  db = openWalConnection((workerData as { path: string }).path);
} catch (err) {
  problem(err);
  process.exit(1);
}

port.on('message', (message: ToCheckpointer) => {
  if (message.kind === 'checkpoint') {
    // A passive checkpoint copies committed pages back into the database file and syncs it without
    // taking the write lock: commits on the event loop go on meanwhile. Once every frame is copied,
    // the next commit starts the WAL over from its beginning.
    try {
      const [row] = db.pragma('wal_checkpoint(PASSIVE)') as { log: number; checkpointed: number }[];
      post({ kind: 'checkpointed', frames: row?.log ?? 0, copied: row?.checkpointed ?? 0 });
    } catch (err) {
      problem(err);
    }
    return;
  }
  try {
    db.close();
  } catch (err) {
    problem(err);
  }
  port.close();
});
