import type { Socket } from 'node:net';
import { type SecureContext, TLSSocket } from 'node:tls';
import { ProtocolError } from '@gatehouse/core';
import {
  type CancelRequest,
  gssEncRequestAnswer,
  type StartupMessage,
  sslRequestAnswer,
} from '../wire/index.js';
import type { ClientReader } from './client-reader.js';

export type StartupPacketOutcome =
  | { readonly kind: 'startup'; readonly message: StartupMessage; readonly tls: boolean }
  | { readonly kind: 'cancel'; readonly message: CancelRequest; readonly tls: boolean };

/**
 * Reads the start of a client connection up to its StartupMessage or CancelRequest: answers
 * SSLRequest with TLS (or 'N' when TLS is off) and GSSENCRequest with 'N'. The decoder refuses
 * bytes sent after an encryption request before its answer, so nothing sent in the clear can be
 * read as if it had come over TLS.
 */
export async function readStartupPacket(
  reader: ClientReader,
  tlsContext: (() => Promise<SecureContext>) | undefined,
): Promise<StartupPacketOutcome> {
  let tls = false;
  for (;;) {
    const m = await reader.next();
    switch (m.type) {
      case 'StartupMessage':
        return { kind: 'startup', message: m, tls };
      case 'CancelRequest':
        return { kind: 'cancel', message: m, tls };
      case 'GSSENCRequest':
        await write(reader.socket, gssEncRequestAnswer(false));
        reader.decoder.encryptionAnswered(false);
        break;
      case 'SSLRequest': {
        if (tlsContext === undefined) {
          await write(reader.socket, sslRequestAnswer(false));
          reader.decoder.encryptionAnswered(false);
          break;
        }
        const context = await tlsContext();
        reader.detach();
        const raw = reader.socket;
        await write(raw, sslRequestAnswer(true));
        const secure = await serverTls(raw, context);
        reader.decoder.encryptionAnswered(true);
        reader.attach(secure);
        tls = true;
        break;
      }
      default:
        throw new ProtocolError(`expected a startup packet, got ${m.type}`);
    }
  }
}

function serverTls(socket: Socket, secureContext: SecureContext): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = new TLSSocket(socket, { isServer: true, secureContext });
    secure.once('secure', () => {
      secure.off('error', onError);
      // A later error must not go unhandled; the reader notices the close.
      secure.on('error', () => undefined);
      resolve(secure);
    });
    const onError = (err: Error) => {
      secure.destroy();
      reject(new ProtocolError(`TLS handshake with the client failed: ${err.message}`, { cause: err }));
    };
    secure.once('error', onError);
  });
}

export function write(socket: Socket, bytes: Buffer): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed || !socket.writable) return resolve();
    socket.write(bytes, () => resolve());
  });
}
