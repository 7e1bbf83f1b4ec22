import type { Socket } from 'node:net';
import {
  type ConnectionContext,
  type GatewayError,
  type ProtocolModule,
  toGatewayError,
} from '@gatehouse/core';
import { HttpConnection } from './http-connection.js';
import { rawErrorResponse, rejectionStatus } from './responses.js';
import { parseUpstream } from './upstream.js';

/** The reverse proxy for internal HTTP APIs: bearer identity, policy per request, masked responses. */
export const httpModule: ProtocolModule = {
  name: 'http',

  async handleConnection(socket: Socket, ctx: ConnectionContext, signal: AbortSignal): Promise<void> {
    let upstream: ReturnType<typeof parseUpstream>;
    try {
      upstream = parseUpstream(ctx.connection.upstream);
    } catch (err) {
      const error = toGatewayError(err);
      await write(
        socket,
        rawErrorResponse(502, error.code, `connection "${ctx.connection.name}" is misconfigured`),
      );
      throw error;
    }
    await new HttpConnection(socket, ctx, signal, upstream).run();
  },

  async rejectConnection(socket: Socket, error: GatewayError): Promise<void> {
    // Whatever the client already sent is discarded, so that closing does not turn into a reset
    // that would swallow this answer.
    socket.resume();
    const retry = rejectionStatus(error) === 503 ? 'Retry-After: 1\r\n' : '';
    await write(socket, rawErrorResponse(rejectionStatus(error), error.code, error.message, retry));
    socket.end();
  },
};

function write(socket: Socket, text: string): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed || !socket.writable) return resolve();
    socket.write(text, () => resolve());
  });
}
