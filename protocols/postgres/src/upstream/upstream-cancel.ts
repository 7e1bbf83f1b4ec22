import { readFile } from 'node:fs/promises';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { encodeFrontendMessage } from '../wire/index.js';
import type { UpstreamTarget } from './upstream-connect.js';

/**
 * Sends the upstream's own CancelRequest for one of its backends, on a new connection as the
 * protocol wants, inside TLS when the connection uses TLS. Never rejects: a cancel is best effort
 * in PostgreSQL too, and the server answers nothing either way.
 */
export async function sendUpstreamCancel(
  target: Pick<UpstreamTarget, 'host' | 'port' | 'tls'>,
  processId: number,
  secretKey: Buffer,
  timeoutMs: number,
): Promise<boolean> {
  const request = encodeFrontendMessage({ type: 'CancelRequest', processId, secretKey });
  let socket: Socket | undefined;
  const timer = setTimeout(() => socket?.destroy(), timeoutMs);
  try {
    socket = await open(target);
    if (target.tls.mode !== 'disable') socket = await negotiateTls(socket, target);
    const s = socket;
    await new Promise<void>((resolve) => {
      s.once('close', () => resolve());
      s.once('error', () => resolve());
      s.end(request);
    });
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    socket?.destroy();
  }
}

function open(target: Pick<UpstreamTarget, 'host' | 'port'>): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: target.host, port: target.port });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
    s.once('close', () => reject(new Error('closed')));
  });
}

async function negotiateTls(socket: Socket, target: Pick<UpstreamTarget, 'host' | 'tls'>): Promise<Socket> {
  const answer = await new Promise<Buffer>((resolve, reject) => {
    socket.once('data', (chunk: Buffer) => {
      socket.pause();
      resolve(chunk);
    });
    socket.once('error', reject);
    socket.write(encodeFrontendMessage({ type: 'SSLRequest' }));
  });
  if (answer.length !== 1 || answer[0] !== 0x53)
    throw new Error('upstream refused TLS for the cancel request');
  const verify = target.tls.mode === 'verify-full';
  const ca = verify && target.tls.ca !== undefined ? await readFile(target.tls.ca) : undefined;
  return new Promise((resolve, reject) => {
    const secure = tlsConnect({
      socket,
      host: target.host,
      ...(isIP(target.host) === 0 ? { servername: target.host } : {}),
      // Only a cancel key crosses this connection, and it is the upstream's own; an impostor
      // learning it could cancel a query, which is why verify-full still verifies below.
      rejectUnauthorized: verify,
      ...(ca === undefined ? {} : { ca }),
    });
    secure.once('secureConnect', () => resolve(secure));
    secure.once('error', reject);
  });
}
