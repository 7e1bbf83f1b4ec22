/**
 * A few plaintext packets of the SSH transport, spoken by hand: the algorithms a server offers in
 * its KEXINIT (what `ssh -Q`-style scanners such as the Terrapin checker read), and whether it ends
 * a strict initial key exchange into which a message was injected — the prefix-truncation
 * primitive of Terrapin (CVE-2023-48795), which strict KEX exists to stop.
 */
import { connect, type Socket } from 'node:net';

export interface KexInit {
  readonly kex: string[];
  readonly hostKeys: string[];
  readonly ciphers: string[];
  readonly macs: string[];
}

const MSG_IGNORE = 2;
const MSG_KEXINIT = 20;

function packet(payload: Buffer): Buffer {
  let pad = 8 - ((5 + payload.length) % 8);
  if (pad < 4) pad += 8;
  const out = Buffer.alloc(5 + payload.length + pad);
  out.writeUInt32BE(1 + payload.length + pad, 0);
  out.writeUInt8(pad, 4);
  payload.copy(out, 5);
  return out;
}

function nameList(names: readonly string[]): Buffer {
  const text = Buffer.from(names.join(','));
  const len = Buffer.alloc(4);
  len.writeUInt32BE(text.length);
  return Buffer.concat([len, text]);
}

function kexInitPayload(kex: readonly string[]): Buffer {
  return Buffer.concat([
    Buffer.from([MSG_KEXINIT]),
    Buffer.alloc(16, 7),
    nameList(kex),
    nameList(['ssh-ed25519']),
    nameList(['aes128-ctr']),
    nameList(['aes128-ctr']),
    nameList(['hmac-sha2-256']),
    nameList(['hmac-sha2-256']),
    nameList(['none']),
    nameList(['none']),
    nameList([]),
    nameList([]),
    Buffer.from([0, 0, 0, 0, 0]),
  ]);
}

/** Connects, exchanges version lines and returns the socket with the server's first packet. */
function open(port: number): Promise<{ socket: Socket; first: Buffer }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let identDone = false;
    socket.on('error', reject);
    socket.on('connect', () => socket.write('SSH-2.0-GatehouseKexProbe\r\n'));
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!identDone) {
        const nl = buf.indexOf('\n');
        if (nl === -1) return;
        identDone = true;
        buf = buf.subarray(nl + 1);
      }
      if (buf.length < 4) return;
      const len = buf.readUInt32BE(0);
      if (buf.length < 4 + len) return;
      socket.off('data', onData);
      const pad = buf.readUInt8(4);
      resolve({ socket, first: buf.subarray(5, 4 + len - pad) });
    };
    socket.on('data', onData);
  });
}

export async function kexInitOf(port: number): Promise<KexInit> {
  const { socket, first } = await open(port);
  socket.destroy();
  if (first[0] !== MSG_KEXINIT) throw new Error(`expected KEXINIT, got message ${first[0]}`);
  let at = 17;
  const lists: string[][] = [];
  for (let i = 0; i < 10; i++) {
    const len = first.readUInt32BE(at);
    lists.push(
      first
        .subarray(at + 4, at + 4 + len)
        .toString()
        .split(',')
        .filter(Boolean),
    );
    at += 4 + len;
  }
  const [kex, hostKeys, ciphers, , macs] = lists as [string[], string[], string[], string[], string[]];
  return { kex, hostKeys, ciphers, macs };
}

/**
 * Sends a KEXINIT (asking for strict KEX when `strict`) and then an IGNORE message where the key
 * exchange expects its next step. Returns 'closed' when the server ends the connection within
 * `waitMs`, 'open' otherwise.
 */
export async function strictKexProbe(
  port: number,
  waitMs: number,
  strict = true,
): Promise<'closed' | 'open'> {
  const { socket } = await open(port);
  const kex = ['curve25519-sha256', ...(strict ? ['kex-strict-c-v00@openssh.com'] : [])];
  const closed = new Promise<'closed'>((r) => socket.once('close', () => r('closed')));
  socket.on('error', () => {});
  socket.on('data', () => {});
  socket.write(packet(kexInitPayload(kex)));
  socket.write(packet(Buffer.from([MSG_IGNORE, 0, 0, 0, 0])));
  const outcome = await Promise.race([
    closed,
    new Promise<'open'>((r) => setTimeout(() => r('open'), waitMs)),
  ]);
  socket.destroy();
  return outcome;
}
