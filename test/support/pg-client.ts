/**
 * Clients for the PostgreSQL security tests: node-postgres with a gateway token, and a raw socket
 * client that speaks the frontend protocol byte by byte (for what drivers never send) and keeps
 * every byte it received, so a test can search the whole stream for a value that must not leak.
 */
import { connect, type Socket } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { wire } from '@gatehouse/postgres';
import pg from 'pg';
import { APP_USER } from '../fixtures/postgres.js';

export interface Target {
  readonly host: string;
  readonly port: number;
}

export function pgClient(target: Target, password: string, extra: Partial<pg.ClientConfig> = {}): pg.Client {
  return new pg.Client({
    host: target.host,
    port: target.port,
    user: APP_USER,
    database: 'shop',
    password,
    ssl: { rejectUnauthorized: false },
    ...extra,
  });
}

export async function withPg<T>(
  target: Target,
  password: string,
  fn: (c: pg.Client) => Promise<T>,
  extra?: Partial<pg.ClientConfig>,
): Promise<T> {
  const c = pgClient(target, password, extra);
  c.on('error', () => undefined);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

export interface PgFailure {
  readonly code?: string;
  readonly message: string;
  readonly detail?: string;
}

export async function pgError(p: Promise<unknown>): Promise<PgFailure> {
  try {
    await p;
  } catch (err) {
    return err as PgFailure;
  }
  throw new Error('expected the statement to fail');
}

export interface Msg {
  readonly code: string;
  readonly body: Buffer;
}

export const enc = wire.encodeFrontendMessage;

/** A raw client: whole backend messages, one-byte answers to encryption requests, all bytes kept. */
export class RawPg {
  socket: Socket | TLSSocket;
  /** Every byte received, in order (after TLS decryption when TLS is on). */
  received = Buffer.alloc(0);
  #buf = Buffer.alloc(0);
  #waiters: (() => void)[] = [];
  closed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    this.#listen(socket);
  }

  static async open(target: Target): Promise<RawPg> {
    const socket = connect(target.port, target.host);
    await new Promise((r, j) => {
      socket.once('connect', r);
      socket.once('error', j);
    });
    return new RawPg(socket);
  }

  #listen(socket: Socket): void {
    socket.on('data', (d: Buffer) => {
      this.received = Buffer.concat([this.received, d]);
      this.#buf = Buffer.concat([this.#buf, d]);
      for (const w of this.#waiters.splice(0)) w();
    });
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.#waiters.splice(0)) w();
    });
    socket.on('error', () => undefined);
  }

  /** Sends SSLRequest, expects 'S' and upgrades the socket to TLS. */
  async startTls(): Promise<void> {
    this.send(enc({ type: 'SSLRequest' }));
    const answer = await this.byte();
    if (answer !== 'S') throw new Error(`SSLRequest answered ${answer}`);
    const plain = this.socket as Socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    const secure = tlsConnect({ socket: plain, rejectUnauthorized: false });
    await new Promise((r, j) => {
      secure.once('secureConnect', r);
      secure.once('error', j);
    });
    this.socket = secure;
    this.#listen(secure);
  }

  send(...messages: Buffer[]): void {
    this.socket.write(Buffer.concat(messages));
  }

  async byte(): Promise<string> {
    while (this.#buf.length < 1) {
      if (this.closed) throw new Error('connection closed');
      await this.#wait();
    }
    const b = String.fromCharCode(this.#buf[0]!);
    this.#buf = this.#buf.subarray(1);
    return b;
  }

  async message(): Promise<Msg> {
    for (;;) {
      if (this.#buf.length >= 5) {
        const len = this.#buf.readInt32BE(1);
        if (this.#buf.length >= len + 1) {
          const m = { code: String.fromCharCode(this.#buf[0]!), body: this.#buf.subarray(5, len + 1) };
          this.#buf = this.#buf.subarray(len + 1);
          return m;
        }
      }
      if (this.closed) throw new Error('connection closed');
      await this.#wait();
    }
  }

  /** Messages up to and including the next one of type `code`. */
  async until(code: string): Promise<Msg[]> {
    const out: Msg[] = [];
    for (;;) {
      const m = await this.message();
      out.push(m);
      if (m.code === code) return out;
    }
  }

  async closedWithin(ms: number): Promise<boolean> {
    const end = Date.now() + ms;
    while (!this.closed && Date.now() < end)
      await Promise.race([this.#wait(), new Promise((r) => setTimeout(r, 20))]);
    return this.closed;
  }

  destroy(): void {
    this.socket.destroy();
  }

  #wait(): Promise<void> {
    return new Promise((r) => this.#waiters.push(r));
  }
}

export function startupMessage(
  parameters: { name: string; value: string }[] = [],
  user = APP_USER,
  database = 'shop',
): Buffer {
  return enc({
    type: 'StartupMessage',
    majorVersion: 3,
    minorVersion: 0,
    parameters: [{ name: 'user', value: user }, { name: 'database', value: database }, ...parameters],
  });
}

export const passwordMessage = (t: string) => enc({ type: 'PasswordMessage', data: Buffer.from(`${t}\0`) });

/** The fields of an ErrorResponse or NoticeResponse, by their one-letter codes. */
export function fields(m: Msg): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < m.body.length && m.body[pos] !== 0) {
    const end = m.body.indexOf(0, pos + 1);
    out[String.fromCharCode(m.body[pos]!)] = m.body.toString('utf8', pos + 1, end);
    pos = end + 1;
  }
  return out;
}

/** Startup and password; returns every message up to the first ReadyForQuery. */
export async function rawLogin(
  raw: RawPg,
  token: string,
  parameters: { name: string; value: string }[] = [],
) {
  raw.send(startupMessage(parameters));
  const first = await raw.until('R');
  raw.send(passwordMessage(token));
  return [...first, ...(await raw.until('Z'))];
}

export function sendCancel(target: Target, processId: number, secretKey: number): Promise<void> {
  const packet = Buffer.alloc(16);
  packet.writeInt32BE(16, 0);
  packet.writeInt32BE(80877102, 4);
  packet.writeInt32BE(processId, 8);
  packet.writeInt32BE(secretKey, 12);
  return new Promise((resolve) => {
    const socket = connect(target.port, target.host, () => socket.end(packet));
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
  });
}

/** Waits for a condition with a deadline instead of a fixed sleep. */
export async function eventually<T>(fn: () => T | undefined | false, ms = 5_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 30));
  }
}
