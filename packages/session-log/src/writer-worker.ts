/**
 * Entry point of the session log's writer thread (see writer.ts). Started by session-log.ts with a
 * WriterConfig as workerData; not imported by anything else.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { BatchWriter } from './writer.js';
import type { FromWriter, ToWriter, WriterConfig } from './writer-protocol.js';

const port = parentPort;
if (port === null) throw new Error('writer-worker.js runs as a worker thread only');

const writer = new BatchWriter(
  workerData as WriterConfig,
  (message: FromWriter) => port.postMessage(message),
  () => receiveMessageOnPort(port)?.message as ToWriter | undefined,
  () => port.close(),
);
if (writer.open()) {
  port.on('message', (message: ToWriter) => writer.receive(message));
} else {
  // `fatal` has been posted; the parent learns the rest from the exit code.
  process.exit(1);
}
