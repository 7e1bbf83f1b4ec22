import type { Duplex } from 'node:stream';
import { type Command, type CommandTicket, toGatewayError } from '@gatehouse/core';
import type {
  AcceptConnection,
  Channel,
  Connection,
  RejectConnection,
  TcpConnectionDetails,
  TcpipRequestInfo,
} from 'ssh2';
import type { ChannelHost } from './channel-host.js';
import { channelCommand, hostPort } from './commands.js';
import { canonicalHost } from './destination.js';
import { judge, printable } from './judge.js';
import { OPEN_ADMINISTRATIVELY_PROHIBITED, OPEN_CONNECT_FAILED, rejectChannel } from './open-failure.js';
import type { UpstreamConnection } from './upstream.js';

interface RemoteBinding {
  readonly ticket: CommandTicket;
  readonly address: string;
  readonly port: number;
  connections: number;
}

/**
 * Port forwarding. Each local forward (`ssh -L`, a `direct-tcpip` channel) and each remote listen
 * (`ssh -R`, a `tcpip-forward` request) is judged as a `channel` command with channel
 * `port-forward` and its destination; the policy engine denies forwarding unless a rule allows it.
 * Allowed ones are relayed through the upstream connection and their byte counts logged.
 */
export class Forwarding {
  readonly #host: ChannelHost;
  readonly #client: Connection;
  readonly #remote = new Map<string, RemoteBinding>();
  #listening: UpstreamConnection | undefined;

  constructor(host: ChannelHost, client: Connection) {
    this.#host = host;
    this.#client = client;
  }

  direct(accept: AcceptConnection<Channel>, reject: RejectConnection, info: TcpipRequestInfo): void {
    this.#direct(accept, reject, info).catch((err: unknown) => {
      this.#host.ctx.logger.warn({ err: toGatewayError(err).message }, 'ssh port forward failed');
      reject();
    });
  }

  async #direct(
    accept: AcceptConnection<Channel>,
    reject: RejectConnection,
    info: TcpipRequestInfo,
  ): Promise<void> {
    const canonical = canonicalHost(info.destIP);
    if (!canonical.ok) {
      this.#refuseHost('direct-tcpip', info.destIP, canonical.reason);
      rejectChannel(this.#client, reject, OPEN_ADMINISTRATIVELY_PROHIBITED, `gatehouse: ${canonical.reason}`);
      return;
    }
    const destHost = canonical.host;
    const destination = hostPort(destHost, info.destPort);
    const command = withRequested(
      channelCommand('port-forward', `direct-tcpip ${destination}`, destination),
      info.destIP,
      destHost,
    );
    const verdict = await judge(this.#host.ctx, command, this.#host.signal);
    if (!verdict.ok) {
      const why = `gatehouse: denied: ${printable(verdict.message)}`;
      rejectChannel(this.#client, reject, OPEN_ADMINISTRATIVELY_PROHIBITED, why);
      return;
    }
    let upstream: Channel;
    try {
      const connection = await this.#host.upstream();
      upstream = await connection.forwardOut(info.srcIP, info.srcPort, destHost, info.destPort);
    } catch (err) {
      const message = toGatewayError(err).message;
      this.#host.ctx.session.result(verdict.ticket, { status: 'error', summary: message });
      rejectChannel(this.#client, reject, OPEN_CONNECT_FAILED, `gatehouse: ${printable(message)}`);
      return;
    }
    const stream = accept();
    this.#pipe(stream, upstream, verdict.ticket);
  }

  #refuseHost(request: string, host: string, reason: string): void {
    this.#host.ctx.session
      .annotate({ refused: 'port-forward', request, host: printable(host).slice(0, 300), reason })
      .catch(() => {});
  }

  request(
    accept: ((port?: number) => void) | undefined,
    reject: (() => void) | undefined,
    name: string,
    info: unknown,
  ): void {
    const bind = info as { bindAddr?: unknown; bindPort?: unknown };
    if (typeof bind.bindAddr !== 'string' || typeof bind.bindPort !== 'number') {
      if (name.includes('streamlocal')) {
        this.#host.ctx.session
          .annotate({ refused: 'streamlocal-forward', reason: 'Unix socket forwarding is not offered' })
          .catch(() => {});
      }
      reject?.();
      return;
    }
    // OpenSSH sends "" and "localhost" for loopback and "*" (or "0.0.0.0") for every address.
    const special = bind.bindAddr === '' || bind.bindAddr === '*';
    const canonical = special ? { ok: true as const, host: bind.bindAddr } : canonicalHost(bind.bindAddr);
    if (!canonical.ok) {
      this.#refuseHost(name, bind.bindAddr, canonical.reason);
      reject?.();
      return;
    }
    const task =
      name === 'tcpip-forward'
        ? this.#listen(accept, reject, canonical.host, bind.bindPort)
        : name === 'cancel-tcpip-forward'
          ? this.#cancel(accept, reject, canonical.host, bind.bindPort)
          : Promise.resolve(reject?.());
    task.catch((err: unknown) => {
      this.#host.ctx.logger.warn({ err: toGatewayError(err).message }, 'ssh remote forward failed');
      reject?.();
    });
  }

  async #listen(
    accept: ((port?: number) => void) | undefined,
    reject: (() => void) | undefined,
    address: string,
    port: number,
  ): Promise<void> {
    const destination = hostPort(address, port);
    const base = channelCommand(
      'port-forward',
      `tcpip-forward ${destination} (listen on the upstream)`,
      destination,
    );
    const command = { ...base, attributes: { ...base.attributes, direction: 'remote' } };
    const verdict = await judge(this.#host.ctx, command, this.#host.signal);
    if (!verdict.ok) {
      reject?.();
      return;
    }
    let bound: number;
    try {
      const connection = await this.#host.upstream();
      this.#watch(connection);
      bound = await connection.forwardIn(address, port);
    } catch (err) {
      this.#host.ctx.session.result(verdict.ticket, {
        status: 'error',
        summary: toGatewayError(err).message,
      });
      reject?.();
      return;
    }
    const actual = port === 0 ? bound : port;
    this.#remote.set(hostPort(address, actual), {
      ticket: verdict.ticket,
      address,
      port: actual,
      connections: 0,
    });
    accept?.(actual);
  }

  async #cancel(
    accept: ((port?: number) => void) | undefined,
    reject: (() => void) | undefined,
    address: string,
    port: number,
  ): Promise<void> {
    const key = hostPort(address, port);
    const binding = this.#remote.get(key);
    if (binding === undefined) {
      reject?.();
      return;
    }
    this.#remote.delete(key);
    await (await this.#host.upstream()).unforwardIn(address, port);
    this.#host.ctx.session.result(binding.ticket, {
      status: 'ok',
      summary: 'cancelled',
      data: { connections: binding.connections },
    });
    accept?.();
  }

  /** Connections the upstream accepted on a remote listen are opened back to the client. */
  #watch(connection: UpstreamConnection): void {
    if (this.#listening === connection) return;
    this.#listening = connection;
    connection.client.on(
      'tcp connection',
      (details: TcpConnectionDetails, acceptUp: AcceptConnection<Channel>, rejectUp: RejectConnection) => {
        const binding = this.#remote.get(hostPort(details.destIP, details.destPort));
        if (binding === undefined) {
          rejectUp();
          return;
        }
        binding.connections++;
        this.#client.forwardOut(
          details.destIP,
          details.destPort,
          details.srcIP,
          details.srcPort,
          (err, channel) => {
            if (err) {
              rejectUp();
              return;
            }
            const upstream = acceptUp();
            wire(channel, upstream, () => {});
          },
        );
      },
    );
  }

  #pipe(client: Channel, upstream: Channel, ticket: CommandTicket): void {
    wire(client, upstream, (toUpstream, toClient) => {
      this.#host.ctx.session.result(ticket, {
        status: 'ok',
        summary: 'closed',
        bytes: toUpstream + toClient,
        data: { bytesToDestination: toUpstream, bytesFromDestination: toClient },
      });
    });
  }

  /** Results for remote listens still open when the connection ends. */
  close(): void {
    for (const binding of this.#remote.values()) {
      this.#host.ctx.session.result(binding.ticket, {
        status: 'ok',
        summary: 'ended with the connection',
        data: { connections: binding.connections },
      });
    }
    this.#remote.clear();
  }
}

/** Relays two channels both ways until either closes; reports the byte counts once. */
function wire(a: Duplex, b: Duplex, done: (aToB: number, bToA: number) => void): void {
  let aToB = 0;
  let bToA = 0;
  let finished = false;
  a.on('error', () => {});
  b.on('error', () => {});
  a.on('data', (c: Buffer) => {
    aToB += c.length;
  });
  b.on('data', (c: Buffer) => {
    bToA += c.length;
  });
  a.pipe(b);
  b.pipe(a);
  const end = () => {
    if (finished) return;
    finished = true;
    a.destroy();
    b.destroy();
    done(aToB, bToA);
  };
  a.once('close', end);
  b.once('close', end);
}

/** The command, with the host as the client wrote it when that differs from the judged one. */
function withRequested(command: Command, requested: string, host: string): Command {
  return requested === host
    ? command
    : { ...command, attributes: { ...command.attributes, requestedHost: requested } };
}
