import type { Readable } from 'node:stream';
import {
  type Command,
  type CommandTicket,
  type ConnectionContext,
  ProtocolError,
  toGatewayError,
} from '@gatehouse/core';
import { sshCommand } from '@gatehouse/policy';
import type { ClientChannel, ServerChannel } from 'ssh2';
import type { Outbox } from '../channel-io.js';
import { judge, printable } from '../judge.js';
import type { ChannelRecorder } from '../recorder.js';
import { type ScpItem, type ScpRecord, ScpStreamReader } from './scp-codec.js';
import { joinPath, type LegacyScp, sourcePath } from './scp-command.js';

type FileOp = 'write' | 'mkdir' | 'read' | 'opendir';

/** A legacy scp file operation, judged like the SFTP operation it amounts to. */
export function scpFileCommand(op: FileOp, path: string): Command {
  const base = sshCommand('sftp', `${op} ${path}`, { channel: 'sftp', sftpOp: op, path });
  return { ...base, attributes: { ...base.attributes, via: 'scp' } };
}

export type ScpStart =
  | { readonly ok: true; readonly tickets: readonly CommandTicket[] }
  | { readonly ok: false; readonly message: string; readonly cancelled: boolean };

/**
 * Before a download starts, each path the client asked for is judged as an SFTP `read` would be
 * (the entries the upstream then sends are judged one by one as they come).
 */
export async function judgeScpStart(
  ctx: ConnectionContext,
  scp: LegacyScp,
  signal: AbortSignal,
): Promise<ScpStart> {
  if (scp.mode === 'sink') return { ok: true, tickets: [] };
  const tickets: CommandTicket[] = [];
  for (const path of scp.paths) {
    const verdict = await judge(ctx, scpFileCommand('read', path), signal);
    if (!verdict.ok) {
      for (const t of tickets)
        ctx.session.result(t, { status: 'error', summary: 'not run: a path was refused' });
      return verdict;
    }
    tickets.push(verdict.ticket);
  }
  return { ok: true, tickets };
}

interface Entry {
  /** Where the entry may land (a sink without `-d` may take the target itself or a name inside it). */
  readonly paths: readonly string[];
  readonly tickets: readonly CommandTicket[];
}

export interface ScpRelayDeps {
  readonly ctx: ConnectionContext;
  readonly scp: LegacyScp;
  readonly client: ServerChannel;
  readonly upstream: ClientChannel;
  readonly outbox: Outbox;
  readonly recorder: ChannelRecorder;
  readonly signal: AbortSignal;
  /** Tickets of the paths judged before the transfer started, closed with the channel. */
  readonly startTickets: readonly CommandTicket[];
  readonly fail: (message: string) => void;
}

/**
 * Relays a legacy scp exec channel. The direction that carries files (client → upstream for an
 * upload, upstream → client for a download) is decoded record by record: every file and directory
 * is judged as the SFTP write/mkdir or read/opendir it amounts to, with its full path, before the
 * record goes on. A refused entry never reaches the other side; both ends are told with an scp
 * error record (`\1…`), so the client's scp reports it and goes on with the next file, as it does
 * for a file the host itself refused. Content is counted, not recorded (as for SFTP).
 */
export class ScpRelay {
  readonly #deps: ScpRelayDeps;
  readonly #reader = new ScpStreamReader();
  readonly #stack: Entry[] = [];
  #file: (Entry & { size: number; bytes: number }) | undefined;
  #pumping = false;
  #judging = false;
  #closed = false;
  #sourceEnded = false;
  #waitingDrain = false;

  constructor(deps: ScpRelayDeps) {
    this.#deps = deps;
  }

  get #upload(): boolean {
    return this.#deps.scp.mode === 'sink';
  }

  /** Where records come from. */
  get #source(): Readable {
    return this.#upload ? this.#deps.client : this.#deps.upstream;
  }

  start(): void {
    const { client, upstream, outbox, recorder } = this.#deps;
    const source = this.#source;
    source.on('data', (chunk: Buffer) => {
      recorder.count(this.#upload ? 'stdin' : 'stdout', chunk.length);
      if (this.#closed) return;
      this.#reader.push(chunk);
      this.#pump();
    });
    source.on('end', () => {
      this.#sourceEnded = true;
      this.#pump();
    });
    // Acknowledgements go the other way, unchanged.
    if (this.#upload) {
      upstream.on('data', (chunk: Buffer) => {
        recorder.count('stdout', chunk.length);
        if (!outbox.write(client, chunk)) {
          upstream.pause();
          client.once('drain', () => upstream.resume());
        }
      });
    } else {
      client.on('data', (chunk: Buffer) => {
        recorder.count('stdin', chunk.length);
        if (!upstream.write(chunk)) {
          client.pause();
          upstream.once('drain', () => client.resume());
        }
      });
      client.on('end', () => upstream.end());
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const open = [...(this.#file === undefined ? [] : [this.#file]), ...this.#stack];
    for (const entry of open) for (const t of entry.tickets) this.#result(t, 'error', 'interrupted');
    this.#stack.length = 0;
    this.#file = undefined;
    for (const t of this.#deps.startTickets) this.#result(t, 'ok', 'channel closed');
  }

  #pump(): void {
    if (this.#pumping || this.#closed) return;
    this.#pumping = true;
    this.#loop()
      .catch((err: unknown) => {
        const error = toGatewayError(err);
        const side = this.#upload ? 'the client' : 'the upstream';
        this.#deps.fail(
          err instanceof ProtocolError ? `malformed scp from ${side}: ${error.message}` : error.message,
        );
      })
      .finally(() => {
        this.#pumping = false;
      });
  }

  async #loop(): Promise<void> {
    while (!this.#closed) {
      const item = this.#reader.next();
      if (item === undefined) break;
      await this.#item(item);
    }
    if (this.#sourceEnded && !this.#closed && this.#upload && !this.#reader.deciding) {
      this.#deps.upstream.end();
    }
  }

  async #item(item: ScpItem): Promise<void> {
    if (item.kind === 'data') {
      const file = this.#file;
      if (file !== undefined) file.bytes += item.bytes.length;
      this.#forward(item.bytes);
      return;
    }
    if (item.kind === 'file-end') {
      const file = this.#file;
      this.#file = undefined;
      if (file !== undefined) {
        const data = this.#upload
          ? { bytesRead: 0, bytesWritten: file.bytes }
          : { bytesRead: file.bytes, bytesWritten: 0 };
        for (const t of file.tickets) {
          this.#deps.ctx.session.result(t, {
            status: item.ok ? 'ok' : 'error',
            summary: item.ok
              ? 'closed'
              : printable(item.raw.subarray(1).toString('utf8').trim()).slice(0, 200),
            bytes: file.bytes,
            data,
          });
        }
      }
      this.#forward(item.raw);
      return;
    }
    const record = item.record;
    if (record.type === 'file' || record.type === 'directory') {
      const entry = await this.#judgeEntry(record);
      if (this.#closed) return;
      if (entry === undefined) {
        if (record.type === 'file') this.#reader.decide(false);
        return;
      }
      if (record.type === 'file') {
        this.#file = { ...entry, size: record.size, bytes: 0 };
        this.#reader.decide(true);
      } else this.#stack.push(entry);
      this.#forward(item.raw);
      return;
    }
    if (record.type === 'end-directory') {
      const dir = this.#stack.pop();
      for (const t of dir?.tickets ?? []) this.#result(t, 'ok', 'closed');
    }
    this.#forward(item.raw);
  }

  /** Judges a file or directory record; undefined when refused (both ends have been told). */
  async #judgeEntry(record: ScpRecord & { type: 'file' | 'directory' }): Promise<Entry | undefined> {
    const { scp, ctx } = this.#deps;
    const parent = this.#stack.at(-1);
    let paths: string[];
    let judged = false;
    if (parent !== undefined) paths = parent.paths.map((p) => joinPath(p, record.name));
    else if (scp.mode === 'sink') {
      const inside = joinPath(scp.target, record.name);
      const directory = scp.targetIsDirectory || /(^|\/)(\.{0,2})$/.test(scp.target);
      paths = directory || inside === scp.target ? [inside] : [scp.target, inside];
    } else {
      const found = sourcePath(scp.paths, record.name);
      paths = [found.path];
      judged = found.judged;
    }
    const op: FileOp =
      record.type === 'file' ? (this.#upload ? 'write' : 'read') : this.#upload ? 'mkdir' : 'opendir';
    if (judged) return { paths, tickets: [] };
    const tickets: CommandTicket[] = [];
    this.#judging = true;
    this.#backpressure();
    try {
      for (const path of paths) {
        const verdict = await judge(ctx, scpFileCommand(op, path), this.#deps.signal);
        if (!verdict.ok) {
          for (const t of tickets) this.#result(t, 'error', 'not run: a related path was refused');
          if (!verdict.cancelled) this.#refuse(verdict.message);
          return undefined;
        }
        tickets.push(verdict.ticket);
      }
    } finally {
      this.#judging = false;
      this.#backpressure();
    }
    return { paths, tickets };
  }

  /** Tells both ends that an entry was refused, as scp's own error records do. */
  #refuse(message: string): void {
    const text = `gatehouse: denied: ${printable(message)}`;
    const { client, upstream, outbox } = this.#deps;
    // The side that sent the record waits for the answer; the sink of a download learns it from a
    // source error record, which OpenSSH's scp prints and counts.
    if (this.#upload) outbox.write(client, `\u0001scp: ${text}\n`);
    else {
      upstream.write(`\u0001${text}\n`);
      outbox.write(client, `\u0001scp: ${text}\n`);
    }
  }

  #forward(bytes: Buffer): void {
    if (this.#closed) return;
    const { client, upstream, outbox } = this.#deps;
    const ok = this.#upload ? upstream.write(bytes) : outbox.write(client, bytes);
    if (ok || this.#waitingDrain) return;
    this.#waitingDrain = true;
    this.#backpressure();
    (this.#upload ? upstream : client).once('drain', () => {
      this.#waitingDrain = false;
      this.#backpressure();
    });
  }

  #backpressure(): void {
    if (this.#judging || this.#waitingDrain) this.#source.pause();
    else this.#source.resume();
  }

  #result(ticket: CommandTicket, status: 'ok' | 'error', summary: string): void {
    this.#deps.ctx.session.result(ticket, { status, summary });
  }
}
