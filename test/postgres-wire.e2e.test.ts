/**
 * The PostgreSQL module at the byte level, for what drivers never send: GSSENCRequest, a newer
 * protocol minor version, bytes smuggled after SSLRequest, FunctionCall, messages pipelined in
 * one chunk with a refused Parse in the middle, and a Terminate.
 */
import { connect, type Socket } from 'node:net';
import { wire } from '@gatehouse/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APP_USER,
  type PgCluster,
  type PgGateway,
  startPostgres,
  startPostgresGateway,
} from './fixtures/postgres.js';

let cluster: PgCluster;
let gw: PgGateway;
let token: string;

beforeAll(async () => {
  cluster = await startPostgres();
  gw = await startPostgresGateway(cluster, {
    options: { allowPlaintext: true },
    policy: {
      rules: [{ id: 'no-drop', action: 'deny', sql: { kinds: ['drop'] }, message: 'DROP is not allowed' }],
    },
  });
  token = await gw.token();
}, 120_000);

afterAll(async () => {
  await gw?.close();
  await cluster?.stop();
});

interface Msg {
  readonly code: string;
  readonly body: Buffer;
}

/** A raw client: collects whole backend messages, and one-byte answers to encryption requests. */
class Raw {
  readonly socket: Socket;
  #buf = Buffer.alloc(0);
  #waiters: (() => void)[] = [];
  closed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, d]);
      for (const w of this.#waiters.splice(0)) w();
    });
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.#waiters.splice(0)) w();
    });
    socket.on('error', () => undefined);
  }

  static async open(): Promise<Raw> {
    const socket = connect(gw.port, gw.host);
    await new Promise((r) => socket.once('connect', r));
    return new Raw(socket);
  }

  send(...messages: Buffer[]): void {
    this.socket.write(Buffer.concat(messages));
  }

  async byte(): Promise<string> {
    while (this.#buf.length < 1) await this.#wait();
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

  #wait(): Promise<void> {
    return new Promise((r) => this.#waiters.push(r));
  }
}

const enc = wire.encodeFrontendMessage;

/** Reads a socket to ReadyForQuery counting DataRows, without keeping them. */
function countRows(socket: Socket): Promise<number> {
  return new Promise((resolve, reject) => {
    let rows = 0;
    let tail = Buffer.alloc(0);
    socket.removeAllListeners('data');
    socket.on('data', (d: Buffer) => {
      let buf = tail.length > 0 ? Buffer.concat([tail, d]) : d;
      while (buf.length >= 5) {
        const len = buf.readInt32BE(1);
        if (buf.length < len + 1) break;
        const code = String.fromCharCode(buf[0]!);
        if (code === 'D') rows++;
        if (code === 'E') reject(new Error(buf.toString('utf8', 5, len + 1)));
        buf = buf.subarray(len + 1);
        if (code === 'Z') {
          resolve(rows);
          return;
        }
      }
      tail = Buffer.from(buf);
    });
    socket.resume();
  });
}
const startup = (minor = 0, extra: { name: string; value: string }[] = []) =>
  enc({
    type: 'StartupMessage',
    majorVersion: 3,
    minorVersion: minor,
    parameters: [{ name: 'user', value: APP_USER }, { name: 'database', value: 'shop' }, ...extra],
  });
const password = (t: string) => enc({ type: 'PasswordMessage', data: Buffer.from(`${t}\0`) });

function fields(m: Msg): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < m.body.length && m.body[pos] !== 0) {
    const end = m.body.indexOf(0, pos + 1);
    out[String.fromCharCode(m.body[pos]!)] = m.body.toString('utf8', pos + 1, end);
    pos = end + 1;
  }
  return out;
}

async function login(raw: Raw, minor = 0, extra: { name: string; value: string }[] = []): Promise<Msg[]> {
  raw.send(startup(minor, extra));
  const first = await raw.until('R');
  raw.send(password(token));
  return [...first, ...(await raw.until('Z'))];
}

describe('connection start', () => {
  it('answers GSSENCRequest with N and goes on in the clear', async () => {
    const raw = await Raw.open();
    raw.send(enc({ type: 'GSSENCRequest' }));
    expect(await raw.byte()).toBe('N');
    const hello = await login(raw);
    expect(hello.map((m) => m.code)).toContain('K');
    expect(hello.at(-1)?.code).toBe('Z');
    raw.send(enc({ type: 'Terminate' }));
    expect(await raw.closedWithin(2_000)).toBe(true);
  });

  it('negotiates protocol 3.0 with a client asking for 3.2 and _pq_ options', async () => {
    const raw = await Raw.open();
    const hello = await login(raw, 2, [{ name: '_pq_.future', value: '1' }]);
    const negotiate = hello.find((m) => m.code === 'v');
    expect(negotiate).toBeDefined();
    expect(negotiate!.body.readInt32BE(0)).toBe(0);
    expect(negotiate!.body.readInt32BE(4)).toBe(1);
    expect(negotiate!.body.toString('utf8', 8).replace(/\0/g, '')).toBe('_pq_.future');
    raw.socket.destroy();
  });

  it('closes a connection that sends bytes after SSLRequest before the answer', async () => {
    const raw = await Raw.open();
    raw.send(enc({ type: 'SSLRequest' }), startup());
    expect(await raw.closedWithin(2_000)).toBe(true);
  });
});

describe('after the start', () => {
  it('refuses FunctionCall by default and stays usable', async () => {
    const raw = await Raw.open();
    await login(raw);
    raw.send(enc({ type: 'FunctionCall', functionOid: 1598, argFormats: [], args: [], resultFormat: 0 }));
    const reply = await raw.until('Z');
    expect(reply.map((m) => m.code)).toEqual(['E', 'Z']);
    expect(fields(reply[0]!)['C']).toBe('42501');
    raw.send(enc({ type: 'Query', query: 'SELECT 1' }));
    expect((await raw.until('Z')).map((m) => m.code)).toEqual(['T', 'D', 'C', 'Z']);
    raw.socket.destroy();
  });

  it('keeps a pipelined batch in order when a Parse in the middle is refused', async () => {
    const raw = await Raw.open();
    await login(raw);
    raw.send(
      enc({ type: 'Query', query: 'BEGIN' }),
      enc({ type: 'Parse', statement: '', query: 'INSERT INTO scratch VALUES (77, $1)', paramTypes: [] }),
      enc({
        type: 'Bind',
        portal: '',
        statement: '',
        paramFormats: [],
        params: [Buffer.from('pipelined')],
        resultFormats: [],
      }),
      enc({ type: 'Execute', portal: '', maxRows: 0 }),
      enc({ type: 'Parse', statement: '', query: 'DROP TABLE scratch', paramTypes: [] }),
      enc({ type: 'Bind', portal: '', statement: '', paramFormats: [], params: [], resultFormats: [] }),
      enc({ type: 'Execute', portal: '', maxRows: 0 }),
      enc({ type: 'Sync' }),
      enc({ type: 'Query', query: 'SELECT count(*) FROM scratch WHERE id = 77' }),
    );
    expect((await raw.until('Z')).map((m) => m.code)).toEqual(['C', 'Z']);
    const batch = await raw.until('Z');
    // ParseComplete, BindComplete, (Describe injected by the gateway is not relayed), CommandComplete, refusal, Ready.
    expect(batch.map((m) => m.code)).toEqual(['1', '2', 'C', 'E', 'Z']);
    expect(fields(batch[3]!)['M']).toBe('DROP is not allowed (rule no-drop)');
    // The batch failed as a whole, as PostgreSQL fails it on an error: the transaction is aborted.
    expect(batch[4]!.body.toString()).toBe('E');
    const after = await raw.until('Z');
    expect(fields(after[0]!)['C']).toBe('25P02');
    raw.send(enc({ type: 'Query', query: 'ROLLBACK' }));
    await raw.until('Z');
    raw.send(enc({ type: 'Query', query: 'SELECT count(*) FROM scratch WHERE id = 77' }));
    const count = await raw.until('Z');
    expect(count[1]!.body.toString('utf8', 6)).toBe('0');
    raw.socket.destroy();
  });

  it('answers a refused Parse alone when nothing of the batch was forwarded, keeping the transaction', async () => {
    const raw = await Raw.open();
    await login(raw);
    raw.send(enc({ type: 'Query', query: 'BEGIN' }));
    await raw.until('Z');
    raw.send(
      enc({ type: 'Parse', statement: 's1', query: 'DROP TABLE scratch', paramTypes: [] }),
      enc({ type: 'Describe', target: 'statement', name: 's1' }),
      enc({ type: 'Sync' }),
    );
    const batch = await raw.until('Z');
    expect(batch.map((m) => m.code)).toEqual(['E', 'Z']);
    expect(batch[1]!.body.toString()).toBe('T');
    raw.send(enc({ type: 'Query', query: 'COMMIT' }));
    expect((await raw.until('Z')).map((m) => m.code)).toEqual(['C', 'Z']);
    raw.socket.destroy();
  });

  it('streams a large result with backpressure: a client that does not read does not fill the gateway', async () => {
    const raw = await Raw.open();
    await login(raw);
    const rows = 100_000;
    const before = process.memoryUsage();
    raw.socket.pause();
    raw.send(enc({ type: 'Query', query: `SELECT repeat('x', 1000) FROM generate_series(1, ${rows})` }));
    await new Promise((r) => setTimeout(r, 1_500));
    const during = process.memoryUsage();
    // 100 MB of rows are waiting upstream, not here.
    expect(during.arrayBuffers - before.arrayBuffers).toBeLessThan(32 * 1024 * 1024);
    const counted = await countRows(raw.socket);
    expect(counted).toBe(rows);
    raw.socket.destroy();
  });

  it('refuses a password message after the start as a protocol violation', async () => {
    const raw = await Raw.open();
    await login(raw);
    raw.send(password('again'));
    const m = await raw.message();
    expect(m.code).toBe('E');
    expect(fields(m)['C']).toBe('08P01');
    expect(await raw.closedWithin(2_000)).toBe(true);
  });
});
