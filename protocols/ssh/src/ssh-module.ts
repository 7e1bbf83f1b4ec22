import type { Socket } from 'node:net';
import {
  type ConnectionContext,
  type ConnectionSettings,
  type GatewayError,
  type ProtocolModule,
  toGatewayError,
} from '@gatehouse/core';
import type { Connection, Server as SshServer } from 'ssh2';
import type { KeyAuthSession } from './client-auth.js';
import { coalesceWrites } from './coalesce-writes.js';
import { modernAlgorithms } from './keys/algorithms.js';
import { loadOrCreateHostKey } from './keys/host-key-store.js';
import { Server } from './keys/ssh2.js';
import { checkSshConnection, parseSshOptions, parseSshUpstream, type SshOptions } from './options.js';
import { SshConnection } from './ssh-connection.js';

const IDENT = 'Gatehouse';
/** How long a refused client gets to read the reason before the socket is cut. */
const REJECT_TIMEOUT_MS = 5_000;

/**
 * One ssh2 Server per connection config (and data directory), fed handed-over sockets with
 * `injectSocket`. ssh2 announces each client in a `connection` event carrying the socket's remote
 * address and port, which find the SshConnection waiting for it.
 */
class ServerHub {
  readonly server: SshServer;
  readonly #waiting = new Map<string, SshConnection>();

  constructor(hostKey: string, options: SshOptions) {
    this.server = new Server(
      {
        hostKeys: [hostKey],
        ident: IDENT,
        algorithms: modernAlgorithms({
          serverHostKey: ['ssh-ed25519'],
          terrapinSafeOnly: options.terrapinSafeOnly,
        }),
        ...(options.keepaliveIntervalMs > 0
          ? { keepaliveInterval: options.keepaliveIntervalMs, keepaliveCountMax: options.keepaliveCountMax }
          : {}),
      },
      (client: Connection, info: { ip: string; port: number }) => {
        const key = socketKey(info.ip, info.port);
        const connection = this.#waiting.get(key);
        this.#waiting.delete(key);
        if (connection === undefined) {
          client.on('error', () => {});
          client.end();
          return;
        }
        connection.attach(client);
      },
    );
  }

  serve(socket: Socket, connection: SshConnection): void {
    const key = socketKey(socket.remoteAddress, socket.remotePort);
    this.#waiting.set(key, connection);
    socket.once('close', () => {
      if (this.#waiting.get(key) === connection) this.#waiting.delete(key);
    });
    coalesceWrites(socket);
    this.server.injectSocket(socket);
  }
}

function canTakeKeys(ctx: ConnectionContext): boolean {
  return typeof (ctx.session as Partial<KeyAuthSession>).authenticateKey === 'function';
}

function socketKey(address: string | undefined, port: number | undefined): string {
  return `${address ?? '?'}|${port ?? '?'}`;
}

/**
 * Builds the SSH protocol module. Its state is a cache of what is derived from configuration:
 * host keys per data directory and one ssh2 Server per connection config.
 */
export function createSshModule(): ProtocolModule {
  const hostKeys = new Map<string, Promise<string>>();
  const hubs = new WeakMap<ConnectionSettings, Map<string, ServerHub>>();
  const warnedKeys = new WeakSet<ConnectionSettings>();
  let lastHostKey: string | undefined;

  const hostKeyFor = (dataDir: string): Promise<string> => {
    let key = hostKeys.get(dataDir);
    if (key === undefined) {
      key = loadOrCreateHostKey(dataDir).then((text) => {
        lastHostKey = text;
        return text;
      });
      key.catch(() => hostKeys.delete(dataDir));
      hostKeys.set(dataDir, key);
    }
    return key;
  };

  const hubFor = (
    settings: ConnectionSettings,
    dataDir: string,
    hostKey: string,
    options: SshOptions,
  ): ServerHub => {
    let byDir = hubs.get(settings);
    if (byDir === undefined) {
      byDir = new Map();
      hubs.set(settings, byDir);
    }
    let hub = byDir.get(dataDir);
    if (hub === undefined) {
      hub = new ServerHub(hostKey, options);
      byDir.set(dataDir, hub);
    }
    return hub;
  };

  const module: ProtocolModule = {
    name: 'ssh',

    async handleConnection(socket: Socket, ctx: ConnectionContext, signal: AbortSignal): Promise<void> {
      // The gateway resumed the socket; the client's identification line must not flow away
      // unread while the host key loads. ssh2 resumes it when it starts reading.
      socket.pause();
      let options: SshOptions;
      let hostKey: string;
      let connection: SshConnection;
      try {
        options = parseSshOptions(ctx.connection.options);
        const upstream = parseSshUpstream(ctx.connection.upstream);
        hostKey = await hostKeyFor(ctx.dataDir);
        connection = new SshConnection(socket, ctx, signal, options, upstream);
      } catch (err) {
        const error = toGatewayError(err);
        ctx.logger.error({ err: error.message }, 'ssh connection is misconfigured');
        await module.rejectConnection(socket, error);
        throw error;
      }
      if (options.publicKeys.length > 0 && !warnedKeys.has(ctx.connection) && !canTakeKeys(ctx)) {
        warnedKeys.add(ctx.connection);
        ctx.logger.warn(
          { connection: ctx.connection.name },
          'options.publicKeys is set, but this gateway session cannot authenticate keys yet; keys are not offered',
        );
      }
      hubFor(ctx.connection, ctx.dataDir, hostKey, options).serve(socket, connection);
      await connection.run();
      const end = connection.end;
      if (end !== undefined) await ctx.session.end(end.reason, end.detail);
    },

    async rejectConnection(socket: Socket, error: GatewayError): Promise<void> {
      await rejectWithBanner(socket, error, lastHostKey);
    },

    checkConnection(settings: ConnectionSettings): void {
      checkSshConnection(settings);
    },
  };
  return module;
}

/** The SSH protocol module (`protocol: ssh`). */
export const sshModule: ProtocolModule = createSshModule();

/**
 * Refuses a connection in a way an SSH client shows: the handshake completes, the reason is sent
 * as the authentication banner (OpenSSH prints it), and the first authentication request is
 * answered with a disconnect. Without a host key yet (nothing was served so far), the reason is
 * written as a plain line before closing, which `ssh -v` shows.
 */
async function rejectWithBanner(
  socket: Socket,
  error: GatewayError,
  hostKey: string | undefined,
): Promise<void> {
  socket.pause();
  const message = `gatehouse: ${error.message}`;
  if (hostKey === undefined) {
    await new Promise<void>((resolve) => {
      if (socket.destroyed || !socket.writable) return resolve();
      socket.write(`${message.replace(/[\r\n]/g, ' ')}\r\n`, () => resolve());
    });
    socket.end();
    return;
  }
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve();
    }, REJECT_TIMEOUT_MS);
    timer.unref();
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    const server = new Server(
      {
        hostKeys: [hostKey],
        ident: IDENT,
        banner: message.replace(/[\r\n]/g, ' '),
        algorithms: modernAlgorithms({ serverHostKey: ['ssh-ed25519'] }),
      },
      (client: Connection) => {
        client.on('error', () => {});
        client.on('authentication', (ctx) => {
          ctx.reject([]);
          client.end();
        });
      },
    );
    server.injectSocket(socket);
  });
}
