import { type CommandTicket, type ConnectionContext, ProtocolError, toGatewayError } from '@gatehouse/core';
import type { ClientChannel, ServerChannel } from 'ssh2';
import type { Outbox } from '../channel-io.js';
import { judge, printable } from '../judge.js';
import {
  decodeRequest,
  decodeResponse,
  encodeStatus,
  FX,
  SFTP_VERSION,
  SftpFramer,
  type SftpRequest,
  type SftpResponse,
  statusName,
} from './sftp-codec.js';
import { planRequest, sftpCommand } from './sftp-plan.js';

interface OpenHandle {
  readonly path: string;
  readonly ticket: CommandTicket | undefined;
  bytesRead: number;
  bytesWritten: number;
}

interface Pending {
  readonly tickets: readonly CommandTicket[];
  readonly open?: { readonly path: string };
  readonly readHandle?: string;
  readonly closeHandle?: string;
}

/** Queued client packets above which the client is asked to wait. */
const MAX_QUEUED = 64;

export interface SftpRelayDeps {
  readonly ctx: ConnectionContext;
  readonly client: ServerChannel;
  readonly upstream: ClientChannel;
  readonly outbox: Outbox;
  readonly signal: AbortSignal;
  /** The stream cannot go on (malformed packets, unsupported version): end the channel. */
  readonly fail: (message: string) => void;
}

/**
 * Relays an SFTP subsystem packet by packet. Every operation that changes the file system or opens
 * a file or directory is judged as an `sftp` command (`sftpOp`, `path`) before it is forwarded; a
 * refused one is answered by the gateway with SSH_FX_PERMISSION_DENIED and never reaches the
 * upstream. Reads and writes on an open handle are covered by the judgment of the open; lookups
 * (stat, realpath, readlink, readdir) are forwarded unjudged. Requests keep their order.
 */
export class SftpRelay {
  readonly #deps: SftpRelayDeps;
  readonly #fromClient = new SftpFramer();
  readonly #fromUpstream = new SftpFramer();
  readonly #queue: Buffer[] = [];
  readonly #handles = new Map<string, OpenHandle>();
  readonly #pending = new Map<number, Pending>();
  #draining = false;
  #clientEnded = false;
  #closed = false;
  #clientPaused = false;
  #waitUpstream = false;
  #waitClient = false;

  constructor(deps: SftpRelayDeps) {
    this.#deps = deps;
  }

  start(): void {
    const { client, upstream } = this.#deps;
    client.on('data', (chunk: Buffer) => this.#fromClientData(chunk));
    client.on('end', () => {
      this.#clientEnded = true;
      this.#drain();
    });
    upstream.on('data', (chunk: Buffer) => this.#fromUpstreamData(chunk));
  }

  /** The channel is gone: results for what is still open, nothing more forwarded. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.length = 0;
    for (const pending of this.#pending.values()) {
      for (const ticket of pending.tickets) this.#result(ticket, 'error', 'no reply (channel closed)');
    }
    this.#pending.clear();
    for (const handle of this.#handles.values()) this.#closeResult(handle, 'not closed (channel closed)');
    this.#handles.clear();
  }

  #fromClientData(chunk: Buffer): void {
    if (this.#closed) return;
    let packets: Buffer[];
    try {
      packets = this.#fromClient.push(chunk);
    } catch (err) {
      this.#deps.fail(`malformed SFTP from the client: ${toGatewayError(err).message}`);
      return;
    }
    this.#queue.push(...packets);
    this.#drain();
  }

  #drain(): void {
    if (this.#draining || this.#closed) return;
    this.#draining = true;
    this.#drainLoop()
      .catch((err: unknown) => this.#deps.fail(`SFTP relay failed: ${toGatewayError(err).message}`))
      .finally(() => {
        this.#draining = false;
        // Packets that arrived while the loop was finishing (several channel data events can come
        // in one tick, before this runs) would otherwise wait for the next packet.
        if (this.#queue.length > 0) this.#drain();
      });
  }

  async #drainLoop(): Promise<void> {
    while (!this.#closed) {
      this.#backpressure();
      const packet = this.#queue.shift();
      if (packet === undefined) break;
      await this.#request(packet);
    }
    this.#backpressure();
    if (this.#clientEnded && this.#queue.length === 0 && !this.#closed) this.#deps.upstream.end();
  }

  async #request(packet: Buffer): Promise<void> {
    let request: SftpRequest;
    try {
      request = decodeRequest(packet);
    } catch (err) {
      if (!(err instanceof ProtocolError) || packet.length < 9) throw err;
      // A well-framed request with a bad field (a path that is not UTF-8): refuse just that one.
      const id = packet.readUInt32BE(5);
      this.#note({ refused: 'sftp', reason: err.message });
      this.#reply(encodeStatus(id, FX.BAD_MESSAGE, `gatehouse: ${err.message}`));
      return;
    }
    const plan = planRequest(
      request,
      (handle) => this.#handles.get(handle)?.path,
      (name) => this.#note({ refused: 'sftp', extension: printable(name).slice(0, 100) }),
    );
    if (plan.action === 'refuse') {
      if (request.type !== 'init') this.#reply(encodeStatus(request.id, plan.code, plan.message));
      return;
    }
    if (plan.action === 'forward') {
      this.#track(request, []);
      this.#forward(packet);
      return;
    }
    const tickets: CommandTicket[] = [];
    for (const operation of plan.operations) {
      const verdict = await judge(this.#deps.ctx, sftpCommand(operation), this.#deps.signal);
      if (this.#closed) return;
      if (!verdict.ok) {
        for (const t of tickets) this.#result(t, 'error', 'not run: a related path was refused');
        if (request.type !== 'init') {
          const message = `gatehouse: denied: ${printable(verdict.message)}`;
          this.#reply(encodeStatus(request.id, FX.PERMISSION_DENIED, message));
        }
        return;
      }
      tickets.push(verdict.ticket);
    }
    this.#track(request, tickets);
    this.#forward(packet);
  }

  #track(request: SftpRequest, tickets: readonly CommandTicket[]): void {
    switch (request.type) {
      case 'open':
      case 'opendir':
        this.#pending.set(request.id, { tickets, open: { path: request.path } });
        return;
      case 'read':
        this.#pending.set(request.id, { tickets, readHandle: request.handle });
        return;
      case 'write': {
        const handle = this.#handles.get(request.handle);
        if (handle !== undefined) handle.bytesWritten += request.length;
        if (tickets.length > 0) this.#pending.set(request.id, { tickets });
        return;
      }
      case 'close':
        this.#pending.set(request.id, { tickets, closeHandle: request.handle });
        return;
      case 'init':
        return;
      default:
        if (tickets.length > 0) this.#pending.set(request.id, { tickets });
    }
  }

  #fromUpstreamData(chunk: Buffer): void {
    if (this.#closed) return;
    let packets: Buffer[];
    try {
      packets = this.#fromUpstream.push(chunk);
    } catch (err) {
      this.#deps.fail(`malformed SFTP from the upstream: ${toGatewayError(err).message}`);
      return;
    }
    for (const packet of packets) {
      let response: SftpResponse;
      try {
        response = decodeResponse(packet);
      } catch (err) {
        this.#deps.fail(`malformed SFTP from the upstream: ${toGatewayError(err).message}`);
        return;
      }
      if (response.type === 'version' && response.version !== SFTP_VERSION) {
        this.#deps.fail(
          `the upstream speaks SFTP version ${response.version}; the gateway audits version 3 only`,
        );
        return;
      }
      this.#response(response);
      if (!this.#reply(packet) && !this.#waitClient) {
        this.#waitClient = true;
        this.#deps.upstream.pause();
        this.#deps.client.once('drain', () => {
          this.#waitClient = false;
          this.#deps.upstream.resume();
        });
      }
    }
  }

  #response(response: SftpResponse): void {
    if (response.type === 'version') return;
    const pending = this.#pending.get(response.id);
    if (pending === undefined) return;
    this.#pending.delete(response.id);
    if (response.type === 'handle' && pending.open !== undefined) {
      this.#handles.set(response.handle, {
        path: pending.open.path,
        ticket: pending.tickets[0],
        bytesRead: 0,
        bytesWritten: 0,
      });
      return;
    }
    if (response.type === 'data' && pending.readHandle !== undefined) {
      const handle = this.#handles.get(pending.readHandle);
      if (handle !== undefined) handle.bytesRead += response.length;
      return;
    }
    if (pending.closeHandle !== undefined) {
      const handle = this.#handles.get(pending.closeHandle);
      this.#handles.delete(pending.closeHandle);
      if (handle !== undefined) this.#closeResult(handle, 'closed');
      return;
    }
    const ok = response.type !== 'status' || response.code === FX.OK;
    const summary = response.type === 'status' ? statusName(response.code) : 'ok';
    for (const ticket of pending.tickets) this.#result(ticket, ok ? 'ok' : 'error', summary);
  }

  #closeResult(handle: OpenHandle, summary: string): void {
    if (handle.ticket === undefined) return;
    this.#deps.ctx.session.result(handle.ticket, {
      status: 'ok',
      summary,
      bytes: handle.bytesRead + handle.bytesWritten,
      data: { bytesRead: handle.bytesRead, bytesWritten: handle.bytesWritten },
    });
  }

  #result(ticket: CommandTicket, status: 'ok' | 'error', summary: string): void {
    this.#deps.ctx.session.result(ticket, { status, summary });
  }

  #forward(packet: Buffer): void {
    if (this.#closed) return;
    if (this.#deps.upstream.write(packet) || this.#waitUpstream) return;
    this.#waitUpstream = true;
    this.#backpressure();
    this.#deps.upstream.once('drain', () => {
      this.#waitUpstream = false;
      this.#backpressure();
    });
  }

  #reply(packet: Buffer): boolean {
    if (this.#closed) return true;
    return this.#deps.outbox.write(this.#deps.client, packet);
  }

  #backpressure(): void {
    const high = this.#queue.length > MAX_QUEUED || this.#waitUpstream;
    if (high === this.#clientPaused) return;
    this.#clientPaused = high;
    if (high) this.#deps.client.pause();
    else this.#deps.client.resume();
  }

  #note(data: Record<string, unknown>): void {
    this.#deps.ctx.session.annotate(data).catch(() => {});
  }
}
