import type { Socket } from 'node:net';
import { type SecureContext, TLSSocket } from 'node:tls';
import { ErrorCode, type GatewayError } from '@gatehouse/core';
import { kubeStatus, rawStatusResponse } from './status.js';

/** Answers a connection refused before hand-over with a Status over TLS: 429 for limits, 503 otherwise. */
export function rejectOverTls(socket: Socket, context: SecureContext, error: GatewayError): Promise<void> {
  return new Promise((resolve) => {
    const tls = new TLSSocket(socket, {
      isServer: true,
      secureContext: context,
      ALPNProtocols: ['http/1.1'],
    });
    const timer = setTimeout(() => {
      tls.destroy();
      resolve();
    }, 2_000);
    timer.unref();
    tls.on('error', () => {
      clearTimeout(timer);
      resolve();
    });
    // Read (and drop) the request so that closing does not turn into a reset that hides the answer.
    tls.once('data', () => {
      const limited = error.code === ErrorCode.AccessDenied;
      const status = kubeStatus(
        limited ? 429 : 503,
        error.message,
        limited ? 'TooManyRequests' : 'ServiceUnavailable',
      );
      tls.end(rawStatusResponse(status), () => {
        clearTimeout(timer);
        resolve();
      });
    });
  });
}
