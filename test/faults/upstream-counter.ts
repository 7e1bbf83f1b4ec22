/**
 * An "upstream" that accepts TCP connections, counts them and closes them at once: what a crashed
 * service behind a load balancer, or a port with the wrong thing on it, looks like. The count shows
 * whether the gateway retries behind a client's back.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { freePort } from '../support/cli.js';

export interface CountingUpstream {
  readonly port: number;
  accepted(): number;
  close(): Promise<void>;
}

export async function startCountingUpstream(): Promise<CountingUpstream> {
  let accepted = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    accepted++;
    socket.on('error', () => undefined);
    socket.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    accepted: () => accepted,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** A loopback port nothing listens on (free a moment ago). */
export const deadPort = freePort;
