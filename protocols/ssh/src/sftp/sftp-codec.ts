/**
 * Just enough of SFTP version 3 (draft-ietf-secsh-filexfer-02, as OpenSSH speaks it) to audit a
 * session: framing in both directions, the fields of requests that name paths and handles, and the
 * responses that assign handles or report outcomes. Pure: bytes in, typed messages out; anything
 * malformed throws a ProtocolError.
 */
import { ProtocolError } from '@gatehouse/core';

export const SFTP_VERSION = 3;
/** Larger than OpenSSH's own limit (256 KiB of payload plus headers). */
export const MAX_PACKET = 1024 * 1024;

export const FXP = {
  INIT: 1,
  VERSION: 2,
  OPEN: 3,
  CLOSE: 4,
  READ: 5,
  WRITE: 6,
  LSTAT: 7,
  FSTAT: 8,
  SETSTAT: 9,
  FSETSTAT: 10,
  OPENDIR: 11,
  READDIR: 12,
  REMOVE: 13,
  MKDIR: 14,
  RMDIR: 15,
  REALPATH: 16,
  STAT: 17,
  RENAME: 18,
  READLINK: 19,
  SYMLINK: 20,
  STATUS: 101,
  HANDLE: 102,
  DATA: 103,
  NAME: 104,
  ATTRS: 105,
  EXTENDED: 200,
  EXTENDED_REPLY: 201,
} as const;

export const FX = {
  OK: 0,
  EOF: 1,
  NO_SUCH_FILE: 2,
  PERMISSION_DENIED: 3,
  FAILURE: 4,
  BAD_MESSAGE: 5,
  NO_CONNECTION: 6,
  CONNECTION_LOST: 7,
  OP_UNSUPPORTED: 8,
} as const;

const STATUS_NAMES = [
  'ok',
  'eof',
  'no such file',
  'permission denied',
  'failure',
  'bad message',
  'no connection',
  'connection lost',
  'operation unsupported',
];

export function statusName(code: number): string {
  return STATUS_NAMES[code] ?? `status ${code}`;
}

export const OPEN_FLAGS = {
  READ: 0x01,
  WRITE: 0x02,
  APPEND: 0x04,
  CREAT: 0x08,
  TRUNC: 0x10,
  EXCL: 0x20,
} as const;

/** Splits a byte stream into whole packets (each with its 4-byte length prefix). */
export class SftpFramer {
  #tail: Buffer = Buffer.alloc(0);
  #failed = false;

  constructor(private readonly maxPacket = MAX_PACKET) {}

  push(chunk: Buffer): Buffer[] {
    if (this.#failed) throw new ProtocolError('SFTP stream already failed');
    let buf = this.#tail.length === 0 ? chunk : Buffer.concat([this.#tail, chunk]);
    const packets: Buffer[] = [];
    while (buf.length >= 4) {
      const length = buf.readUInt32BE(0);
      if (length === 0 || length > this.maxPacket) {
        this.#failed = true;
        throw new ProtocolError(`SFTP packet length ${length} is out of bounds (1–${this.maxPacket})`);
      }
      if (buf.length < 4 + length) break;
      packets.push(buf.subarray(0, 4 + length));
      buf = buf.subarray(4 + length);
    }
    this.#tail = Buffer.from(buf);
    return packets;
  }

  /** Bytes of an unfinished packet. */
  get pending(): number {
    return this.#tail.length;
  }
}

class Reader {
  #at: number;
  constructor(
    private readonly buf: Buffer,
    start: number,
  ) {
    this.#at = start;
  }

  #need(n: number, what: string): void {
    if (this.#at + n > this.buf.length) throw new ProtocolError(`SFTP packet too short for ${what}`);
  }

  u32(what: string): number {
    this.#need(4, what);
    const v = this.buf.readUInt32BE(this.#at);
    this.#at += 4;
    return v;
  }

  u64(what: string): bigint {
    this.#need(8, what);
    const v = this.buf.readBigUInt64BE(this.#at);
    this.#at += 8;
    return v;
  }

  bytes(what: string): Buffer {
    const n = this.u32(what);
    this.#need(n, what);
    const v = this.buf.subarray(this.#at, this.#at + n);
    this.#at += n;
    return v;
  }

  /** A path or name: UTF-8 without NUL, or a ProtocolError. */
  text(what: string): string {
    const raw = this.bytes(what);
    const text = raw.toString('utf8');
    if (!Buffer.from(text, 'utf8').equals(raw) || text.includes('\u0000')) {
      throw new ProtocolError(`SFTP ${what} is not valid UTF-8`);
    }
    return text;
  }
}

export type PathOp =
  | 'lstat'
  | 'stat'
  | 'opendir'
  | 'remove'
  | 'rmdir'
  | 'realpath'
  | 'readlink'
  | 'setstat'
  | 'mkdir';
export type HandleOp = 'close' | 'fstat' | 'fsetstat' | 'readdir';

export type SftpRequest =
  | { readonly type: 'init'; readonly version: number }
  | { readonly type: 'open'; readonly id: number; readonly path: string; readonly flags: number }
  | { readonly type: PathOp; readonly id: number; readonly path: string }
  | { readonly type: HandleOp; readonly id: number; readonly handle: string }
  | { readonly type: 'read'; readonly id: number; readonly handle: string; readonly length: number }
  | { readonly type: 'write'; readonly id: number; readonly handle: string; readonly length: number }
  | { readonly type: 'rename'; readonly id: number; readonly from: string; readonly to: string }
  /** Fields in wire order; OpenSSH reads them as (target, link path), the reverse of the draft. */
  | { readonly type: 'symlink'; readonly id: number; readonly first: string; readonly second: string }
  | { readonly type: 'extended'; readonly id: number; readonly name: string; readonly body: ExtendedBody }
  | { readonly type: 'unknown'; readonly id: number; readonly code: number };

/** The known extensions that name paths or handles, decoded; others keep their raw bytes. */
export type ExtendedBody =
  | { readonly kind: 'two-paths'; readonly from: string; readonly to: string }
  | { readonly kind: 'path'; readonly path: string }
  | { readonly kind: 'handle'; readonly handle: string }
  | { readonly kind: 'copy-data'; readonly readHandle: string; readonly writeHandle: string }
  | { readonly kind: 'none' };

const PATH_OPS: Readonly<Record<number, PathOp>> = {
  [FXP.LSTAT]: 'lstat',
  [FXP.STAT]: 'stat',
  [FXP.OPENDIR]: 'opendir',
  [FXP.REMOVE]: 'remove',
  [FXP.RMDIR]: 'rmdir',
  [FXP.REALPATH]: 'realpath',
  [FXP.READLINK]: 'readlink',
  [FXP.SETSTAT]: 'setstat',
  [FXP.MKDIR]: 'mkdir',
};
const HANDLE_OPS: Readonly<Record<number, HandleOp>> = {
  [FXP.CLOSE]: 'close',
  [FXP.FSTAT]: 'fstat',
  [FXP.FSETSTAT]: 'fsetstat',
  [FXP.READDIR]: 'readdir',
};

const TWO_PATH_EXTENSIONS = new Set(['posix-rename@openssh.com', 'hardlink@openssh.com']);
const PATH_EXTENSIONS = new Set(['lsetstat@openssh.com', 'statvfs@openssh.com', 'expand-path@openssh.com']);
const HANDLE_EXTENSIONS = new Set(['fstatvfs@openssh.com', 'fsync@openssh.com']);

/** Decodes one client→server packet (with its length prefix). */
export function decodeRequest(packet: Buffer): SftpRequest {
  if (packet.length < 5) throw new ProtocolError('SFTP packet without a type');
  const type = packet[4] as number;
  const body = new Reader(packet, 5);
  if (type === FXP.INIT) return { type: 'init', version: body.u32('version') };
  const id = body.u32('request id');
  const handle = (what: string) => body.bytes(what).toString('hex');
  if (type === FXP.OPEN) {
    const path = body.text('path');
    return { type: 'open', id, path, flags: body.u32('open flags') };
  }
  const pathOp = PATH_OPS[type];
  if (pathOp !== undefined) return { type: pathOp, id, path: body.text('path') };
  const handleOp = HANDLE_OPS[type];
  if (handleOp !== undefined) return { type: handleOp, id, handle: handle('handle') };
  switch (type) {
    case FXP.READ: {
      const h = handle('handle');
      body.u64('offset');
      return { type: 'read', id, handle: h, length: body.u32('length') };
    }
    case FXP.WRITE: {
      const h = handle('handle');
      body.u64('offset');
      return { type: 'write', id, handle: h, length: body.bytes('data').length };
    }
    case FXP.RENAME:
      return { type: 'rename', id, from: body.text('old path'), to: body.text('new path') };
    case FXP.SYMLINK:
      return { type: 'symlink', id, first: body.text('path'), second: body.text('path') };
    case FXP.EXTENDED: {
      const name = body.text('extension name');
      return { type: 'extended', id, name, body: extendedBody(name, body) };
    }
    default:
      return { type: 'unknown', id, code: type };
  }
}

function extendedBody(name: string, body: Reader): ExtendedBody {
  if (TWO_PATH_EXTENSIONS.has(name))
    return { kind: 'two-paths', from: body.text('path'), to: body.text('path') };
  if (PATH_EXTENSIONS.has(name)) return { kind: 'path', path: body.text('path') };
  if (HANDLE_EXTENSIONS.has(name)) return { kind: 'handle', handle: body.bytes('handle').toString('hex') };
  if (name === 'copy-data') {
    const readHandle = body.bytes('read handle').toString('hex');
    body.u64('read offset');
    body.u64('read length');
    return { kind: 'copy-data', readHandle, writeHandle: body.bytes('write handle').toString('hex') };
  }
  return { kind: 'none' };
}

export type SftpResponse =
  | { readonly type: 'version'; readonly version: number }
  | { readonly type: 'status'; readonly id: number; readonly code: number }
  | { readonly type: 'handle'; readonly id: number; readonly handle: string }
  | { readonly type: 'data'; readonly id: number; readonly length: number }
  | { readonly type: 'other'; readonly id: number };

/** Decodes one server→client packet (with its length prefix). */
export function decodeResponse(packet: Buffer): SftpResponse {
  if (packet.length < 5) throw new ProtocolError('SFTP packet without a type');
  const type = packet[4] as number;
  const body = new Reader(packet, 5);
  if (type === FXP.VERSION) return { type: 'version', version: body.u32('version') };
  const id = body.u32('request id');
  switch (type) {
    case FXP.STATUS:
      return { type: 'status', id, code: body.u32('status code') };
    case FXP.HANDLE:
      return { type: 'handle', id, handle: body.bytes('handle').toString('hex') };
    case FXP.DATA:
      return { type: 'data', id, length: body.bytes('data').length };
    default:
      return { type: 'other', id };
  }
}

/** An SSH_FXP_STATUS packet (with its length prefix). */
export function encodeStatus(id: number, code: number, message: string): Buffer {
  const msg = Buffer.from(message, 'utf8');
  const lang = Buffer.alloc(0);
  const length = 1 + 4 + 4 + 4 + msg.length + 4 + lang.length;
  const out = Buffer.alloc(4 + length);
  let at = out.writeUInt32BE(length, 0);
  at = out.writeUInt8(FXP.STATUS, at);
  at = out.writeUInt32BE(id >>> 0, at);
  at = out.writeUInt32BE(code, at);
  at = out.writeUInt32BE(msg.length, at);
  at += msg.copy(out, at);
  out.writeUInt32BE(lang.length, at);
  return out;
}
