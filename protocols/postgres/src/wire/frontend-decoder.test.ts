import { GatewayError, ProtocolError } from '@gatehouse/core';
import { describe, expect, it } from 'vitest';
import { RequestCode } from './codes.js';
import { FrontendDecoder } from './frontend-decoder.js';
import { encodeFrontendMessage } from './frontend-encoder.js';
import type { FrontendMessage } from './frontend-messages.js';
import { MessageWriter } from './message-writer.js';
import { getStartupParameter, protocolExtensionOptions } from './startup-packet.js';

const startup = encodeFrontendMessage({
  type: 'StartupMessage',
  majorVersion: 3,
  minorVersion: 0,
  parameters: [
    { name: 'user', value: 'alice' },
    { name: 'database', value: 'app' },
    { name: 'application_name', value: 'psql' },
  ],
});
const sslRequest = encodeFrontendMessage({ type: 'SSLRequest' });
const gssRequest = encodeFrontendMessage({ type: 'GSSENCRequest' });
const query = encodeFrontendMessage({ type: 'Query', query: 'select 1' });
const sync = encodeFrontendMessage({ type: 'Sync' });

function types(ms: FrontendMessage[]): string[] {
  return ms.map((m) => m.type);
}

function protocolError(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    return err as ProtocolError;
  }
  throw new Error('expected a ProtocolError');
}

describe('FrontendDecoder startup phase', () => {
  it('decodes a StartupMessage with ordered parameters and switches to typed messages', () => {
    const d = new FrontendDecoder();
    const [m] = d.push(startup);
    expect(m).toMatchObject({
      type: 'StartupMessage',
      majorVersion: 3,
      minorVersion: 0,
      parameters: [
        { name: 'user', value: 'alice' },
        { name: 'database', value: 'app' },
        { name: 'application_name', value: 'psql' },
      ],
    });
    expect(m!.raw.equals(startup)).toBe(true);
    expect(d.phase).toBe('typed');
    if (m?.type !== 'StartupMessage') throw new Error('unreachable');
    expect(getStartupParameter(m, 'database')).toBe('app');
    expect(getStartupParameter(m, 'options')).toBeUndefined();
  });

  it('accepts protocol 3.2 and reports _pq_ options for negotiation', () => {
    const bytes = encodeFrontendMessage({
      type: 'StartupMessage',
      majorVersion: 3,
      minorVersion: 2,
      parameters: [
        { name: 'user', value: 'u' },
        { name: '_pq_.compression', value: 'on' },
      ],
    });
    const [m] = new FrontendDecoder().push(bytes);
    if (m?.type !== 'StartupMessage') throw new Error('expected StartupMessage');
    expect(m.minorVersion).toBe(2);
    expect(protocolExtensionOptions(m)).toEqual(['_pq_.compression']);
  });

  it('decodes a StartupMessage and the typed messages behind it in one chunk', () => {
    const d = new FrontendDecoder();
    expect(types(d.push(Buffer.concat([startup, query, sync])))).toEqual(['StartupMessage', 'Query', 'Sync']);
    expect(d.bufferedBytes).toBe(0);
  });

  it('decodes CancelRequest with a 4-byte (3.0) and a 256-byte (3.2) key, then refuses more data', () => {
    for (const len of [4, 32, 256]) {
      const key = Buffer.alloc(len, 7);
      const bytes = encodeFrontendMessage({ type: 'CancelRequest', processId: 4242, secretKey: key });
      const d = new FrontendDecoder();
      const [m] = d.push(bytes);
      expect(m).toMatchObject({ type: 'CancelRequest', processId: 4242 });
      expect(m?.type === 'CancelRequest' && m.secretKey.equals(key)).toBe(true);
      expect(d.phase).toBe('closed');
      expect(protocolError(() => d.push(Buffer.from([0]))).message).toMatch(/after a CancelRequest/);
    }
  });

  it.each([3, 257])('refuses a CancelRequest key of %i bytes', (len) => {
    const bytes = new MessageWriter()
      .start()
      .uint32(RequestCode.CancelRequest)
      .int32(1)
      .bytes(Buffer.alloc(len))
      .finish();
    expect(protocolError(() => new FrontendDecoder().push(bytes)).message).toMatch(/secret key is \d+ bytes/);
  });

  it('waits for the SSLRequest answer, then decodes the startup packet', () => {
    const d = new FrontendDecoder();
    expect(types(d.push(sslRequest))).toEqual(['SSLRequest']);
    expect(d.phase).toBe('awaiting-encryption-answer');
    d.encryptionAnswered(false);
    expect(types(d.push(gssRequest))).toEqual(['GSSENCRequest']);
    d.encryptionAnswered(true);
    expect(types(d.push(startup))).toEqual(['StartupMessage']);
  });

  it('refuses bytes pipelined behind an SSLRequest (CVE-2021-23214)', () => {
    const d = new FrontendDecoder();
    expect(protocolError(() => d.push(Buffer.concat([sslRequest, startup]))).message).toMatch(
      /before its answer/,
    );
    const d2 = new FrontendDecoder();
    d2.push(sslRequest);
    expect(() => d2.push(startup)).toThrow(ProtocolError);
    // Same when the request itself arrived in pieces.
    const d3 = new FrontendDecoder();
    d3.push(sslRequest.subarray(0, 3));
    expect(() => d3.push(Buffer.concat([sslRequest.subarray(3), Buffer.from([0])]))).toThrow(ProtocolError);
  });

  it('refuses a second SSLRequest once encryption is on', () => {
    const d = new FrontendDecoder();
    d.push(sslRequest);
    d.encryptionAnswered(true);
    expect(protocolError(() => d.push(sslRequest)).message).toMatch(/repeated/);
  });

  it('treats answering when nothing was asked as a caller bug, not a protocol error', () => {
    const d = new FrontendDecoder();
    let err: unknown;
    try {
      d.encryptionAnswered(true);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).not.toBeInstanceOf(ProtocolError);
  });

  it('starts in the typed phase on request, or switches with startupDone()', () => {
    expect(types(new FrontendDecoder({ phase: 'typed' }).push(query))).toEqual(['Query']);
    const d = new FrontendDecoder();
    d.startupDone();
    expect(types(d.push(query))).toEqual(['Query']);
  });

  it.each([
    [
      'a 2.0 protocol version',
      new MessageWriter().start().uint32(0x20000).byte(0).finish(),
      /unsupported frontend protocol 2\.0/,
    ],
    [
      'an unknown 1234.x request code',
      new MessageWriter().start().uint32(80877199).byte(0).finish(),
      /unsupported frontend protocol 1234/,
    ],
    ['a missing final terminator', pkt('user\0alice\0'), /terminating NUL/],
    ['a value without its NUL', pkt('user\0alice'), /not NUL-terminated/],
    ['a name without a value', pkt('user\0'), /has no value/],
    ['an odd list with terminator', pkt('user\0\0'), /terminating NUL/],
    ['a duplicate key', pkt('user\0a\0user\0b\0\0'), /"user" appears more than once/],
    ['bytes after the terminator', pkt('user\0a\0\0x'), /unexpected bytes/],
    ['invalid UTF-8', pkt('user\0\xff\xfe\0\0', 'latin1'), /not valid UTF-8/],
    [
      'an SSLRequest with a body',
      new MessageWriter().start().uint32(RequestCode.SSLRequest).byte(0).finish(),
      /SSLRequest: 1 unexpected/,
    ],
  ])('refuses a startup packet with %s', (_name, bytes, pattern) => {
    expect(protocolError(() => new FrontendDecoder().push(bytes)).message).toMatch(pattern);
  });
});

function pkt(params: string, encoding: BufferEncoding = 'utf8'): Buffer {
  return new MessageWriter().start().uint32(0x30000).bytes(Buffer.from(params, encoding)).finish();
}

describe('FrontendDecoder limits', () => {
  it('refuses an oversized typed message from its header, before the body arrives', () => {
    const d = new FrontendDecoder({ phase: 'typed', maxMessageLength: 1024 });
    const header = Buffer.from([0x51, 0, 0, 4, 1]);
    expect(protocolError(() => d.push(header)).message).toMatch(
      /Query: length 1025 exceeds the limit of 1024/,
    );
    // Also when the header itself is split.
    const d2 = new FrontendDecoder({ phase: 'typed', maxMessageLength: 1024 });
    d2.push(header.subarray(0, 2));
    expect(() => d2.push(header.subarray(2))).toThrow(/exceeds the limit/);
  });

  it('holds name-only messages to 10,000 bytes even when larger messages are allowed', () => {
    const d = new FrontendDecoder({ phase: 'typed' });
    expect(() => d.push(Buffer.from([0x44, 0, 0, 0x27, 0x11]))).toThrow(/Describe: length 10001 exceeds/);
  });

  it('refuses a body on messages that have none, from the header', () => {
    const d = new FrontendDecoder({ phase: 'typed' });
    expect(() => d.push(Buffer.from([0x53, 0, 0, 0, 5]))).toThrow(/Sync: length 5, expected 4/);
  });

  it.each([
    ['negative', [0x51, 0xff, 0xff, 0xff, 0xfe], /Query: invalid length -2/],
    ['too short', [0x51, 0, 0, 0, 3], /Query: invalid length 3/],
    ['most negative', [0x42, 0x80, 0, 0, 0], /Bind: invalid length -2147483648/],
  ])('refuses a %s typed length', (_name, bytes, pattern) => {
    expect(() => new FrontendDecoder({ phase: 'typed' }).push(Buffer.from(bytes))).toThrow(pattern);
  });

  it.each([
    ['negative', [0xff, 0xff, 0xff, 0xff], /invalid startup packet length -1/],
    ['shorter than its code', [0, 0, 0, 7], /invalid startup packet length 7/],
    ['above 10,000 bytes', [0, 0, 0x27, 0x11], /invalid startup packet length 10001/],
  ])('refuses a %s startup length', (_name, bytes, pattern) => {
    expect(() => new FrontendDecoder().push(Buffer.from(bytes))).toThrow(pattern);
  });

  it('names a TLS ClientHello sent without an SSLRequest', () => {
    expect(() => new FrontendDecoder().push(Buffer.from('160301020001', 'hex'))).toThrow(/TLS handshake/);
  });

  it('honours a configured startup limit', () => {
    expect(() => new FrontendDecoder({ maxStartupLength: 16 }).push(startup)).toThrow(/expected 8 to 16/);
  });

  it('refuses an unknown type byte as soon as it arrives', () => {
    const d = new FrontendDecoder({ phase: 'typed' });
    const err = protocolError(() => d.push(Buffer.from([0x5a])));
    expect(err.message).toBe("unknown message type 0x5a ('Z')");
    expect(err.details).toEqual({ code: 0x5a });
  });

  it('buffers in proportion to what arrived, not to a huge declared length', () => {
    const d = new FrontendDecoder({ phase: 'typed', maxMessageLength: 0x7fffffff });
    const before = process.memoryUsage().arrayBuffers;
    const header = Buffer.from([0x64, 0x7f, 0xff, 0xff, 0xff]);
    d.push(header.subarray(0, 3));
    d.push(Buffer.concat([header.subarray(3), Buffer.alloc(1000)]));
    for (let i = 0; i < 100; i++) d.push(Buffer.alloc(1000));
    expect(d.bufferedBytes).toBe(5 + 101_000);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(8 * 1024 * 1024);
  });

  it('keeps a partial message across pushes and reports it as buffered', () => {
    const d = new FrontendDecoder({ phase: 'typed' });
    expect(d.push(query.subarray(0, 7))).toEqual([]);
    expect(d.bufferedBytes).toBe(7);
    expect(types(d.push(query.subarray(7)))).toEqual(['Query']);
    expect(d.bufferedBytes).toBe(0);
  });

  it('stays failed after a ProtocolError, repeating it', () => {
    const d = new FrontendDecoder({ phase: 'typed' });
    const err = protocolError(() => d.push(Buffer.from([0x00])));
    expect(d.phase).toBe('failed');
    expect(() => d.push(query)).toThrow(err);
  });

  it('refuses startupDone() while part of a startup packet is buffered', () => {
    const d = new FrontendDecoder();
    d.push(startup.subarray(0, 6));
    expect(() => d.startupDone()).toThrow(/buffered/);
  });

  it('refuses bad options as a caller bug', () => {
    expect(() => new FrontendDecoder({ maxMessageLength: 2 })).toThrow(/maxMessageLength/);
    expect(() => new FrontendDecoder({ maxStartupLength: 2 ** 31 })).toThrow(/maxStartupLength/);
  });

  it('can accept non-UTF-8 strings when asked to', () => {
    const bytes = new MessageWriter()
      .start(0x51)
      .bytes(Buffer.from([0x61, 0xe9, 0]))
      .finish();
    expect(() => new FrontendDecoder({ phase: 'typed' }).push(bytes)).toThrow(
      /Query: query string is not valid UTF-8/,
    );
    const [m] = new FrontendDecoder({ phase: 'typed', validateUtf8: false }).push(bytes);
    expect(m).toMatchObject({ type: 'Query', query: 'a\ufffd' });
  });
});
