import { ProtocolError } from '@gatehouse/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeRequest, decodeResponse, encodeStatus, FX, FXP, SftpFramer } from './sftp-codec.js';

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const u64 = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};
const str = (s: string | Buffer) => {
  const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  return Buffer.concat([u32(b.length), b]);
};
const packet = (type: number, ...parts: Buffer[]) => {
  const body = Buffer.concat([Buffer.from([type]), ...parts]);
  return Buffer.concat([u32(body.length), body]);
};
const attrs = u32(0);

describe('sftp requests', () => {
  it.each([
    [packet(FXP.INIT, u32(3)), { type: 'init', version: 3 }],
    [
      packet(FXP.OPEN, u32(7), str('/etc/passwd'), u32(0x1a), attrs),
      { type: 'open', id: 7, path: '/etc/passwd', flags: 0x1a },
    ],
    [packet(FXP.REMOVE, u32(1), str('x.txt')), { type: 'remove', id: 1, path: 'x.txt' }],
    [packet(FXP.MKDIR, u32(2), str('d'), attrs), { type: 'mkdir', id: 2, path: 'd' }],
    [packet(FXP.RENAME, u32(3), str('/a'), str('/b')), { type: 'rename', id: 3, from: '/a', to: '/b' }],
    [packet(FXP.SYMLINK, u32(4), str('t'), str('l')), { type: 'symlink', id: 4, first: 't', second: 'l' }],
    [
      packet(FXP.WRITE, u32(5), str(Buffer.from([1, 2])), u64(9), str('hello')),
      { type: 'write', id: 5, handle: '0102', length: 5 },
    ],
    [
      packet(FXP.READ, u32(6), str(Buffer.from([1])), u64(0), u32(32768)),
      { type: 'read', id: 6, handle: '01', length: 32768 },
    ],
    [packet(FXP.FSETSTAT, u32(8), str(Buffer.from([9])), attrs), { type: 'fsetstat', id: 8, handle: '09' }],
    [
      packet(FXP.EXTENDED, u32(9), str('posix-rename@openssh.com'), str('/a'), str('/b')),
      {
        type: 'extended',
        id: 9,
        name: 'posix-rename@openssh.com',
        body: { kind: 'two-paths', from: '/a', to: '/b' },
      },
    ],
    [
      packet(FXP.EXTENDED, u32(10), str('vendor-thing'), str('anything')),
      { type: 'extended', id: 10, name: 'vendor-thing', body: { kind: 'none' } },
    ],
    [packet(99, u32(11)), { type: 'unknown', id: 11, code: 99 }],
  ])('decodes %#', (bytes, expected) => {
    expect(decodeRequest(bytes)).toEqual(expected);
  });

  it.each([
    ['a truncated path', packet(FXP.REMOVE, u32(1), u32(10), Buffer.from('abc'))],
    ['a path that is not UTF-8', packet(FXP.REMOVE, u32(1), str(Buffer.from([0x2f, 0xff])))],
    ['a NUL in a path', packet(FXP.REMOVE, u32(1), str('/etc\u0000x'))],
    ['no request id', packet(FXP.REMOVE)],
  ])('refuses %s with a ProtocolError', (_name, bytes) => {
    expect(() => decodeRequest(bytes)).toThrow(ProtocolError);
  });
});

describe('sftp responses', () => {
  it('decodes what the relay tracks and builds STATUS replies', () => {
    expect(decodeResponse(packet(FXP.VERSION, u32(3)))).toEqual({ type: 'version', version: 3 });
    expect(decodeResponse(packet(FXP.HANDLE, u32(4), str(Buffer.from([0xab]))))).toEqual({
      type: 'handle',
      id: 4,
      handle: 'ab',
    });
    expect(decodeResponse(packet(FXP.DATA, u32(5), str('xyz')))).toEqual({ type: 'data', id: 5, length: 3 });
    const status = encodeStatus(6, FX.PERMISSION_DENIED, 'gatehouse: denied: no');
    expect(decodeResponse(status)).toEqual({ type: 'status', id: 6, code: FX.PERMISSION_DENIED });
    expect(status).toEqual(packet(FXP.STATUS, u32(6), u32(3), str('gatehouse: denied: no'), str('')));
  });
});

describe('sftp framing', () => {
  const stream = Buffer.concat([
    packet(FXP.INIT, u32(3)),
    packet(FXP.OPEN, u32(1), str('/tmp/é'), u32(1), attrs),
    packet(FXP.WRITE, u32(2), str('h'), u64(0), str('x'.repeat(1000))),
  ]);

  it('gives the same packets whatever the chunking', () => {
    const whole = new SftpFramer().push(stream);
    expect(whole).toHaveLength(3);
    for (let i = 0; i <= stream.length; i += 13) {
      const framer = new SftpFramer();
      const got = [...framer.push(stream.subarray(0, i)), ...framer.push(stream.subarray(i))];
      expect(got).toEqual(whole);
      expect(framer.pending).toBe(0);
    }
  });

  it('refuses an empty or oversized packet and stays failed', () => {
    const framer = new SftpFramer(1024);
    expect(() => framer.push(u32(2048))).toThrow(ProtocolError);
    expect(() => framer.push(packet(FXP.INIT, u32(3)))).toThrow(ProtocolError);
    expect(() => new SftpFramer().push(u32(0))).toThrow(ProtocolError);
  });

  it('throws only ProtocolError on any input (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 10 }), (chunks) => {
        const framer = new SftpFramer(4096);
        try {
          for (const chunk of chunks) {
            for (const p of framer.push(Buffer.from(chunk))) {
              try {
                decodeRequest(p);
              } catch (err) {
                expect(err).toBeInstanceOf(ProtocolError);
              }
              try {
                decodeResponse(p);
              } catch (err) {
                expect(err).toBeInstanceOf(ProtocolError);
              }
            }
          }
        } catch (err) {
          expect(err).toBeInstanceOf(ProtocolError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('decodes any well-framed body to a message or a ProtocolError (property)', () => {
    const body = fc.tuple(
      fc.constantFrom(...Object.values(FXP), 0, 42, 255),
      fc.oneof(
        fc.uint8Array({ maxLength: 80 }),
        fc
          .array(
            fc.oneof(
              fc.string({ maxLength: 12 }).map((s) => str(s)),
              fc.nat().map(u32),
            ),
            { maxLength: 6 },
          )
          .map((parts) => new Uint8Array(Buffer.concat(parts))),
      ),
    );
    fc.assert(
      fc.property(body, ([type, rest]) => {
        const bytes = packet(type, Buffer.from(rest));
        expect(new SftpFramer().push(bytes)).toEqual([bytes]);
        for (const decode of [decodeRequest, decodeResponse]) {
          try {
            expect(decode(bytes)).toHaveProperty('type');
          } catch (err) {
            expect(err).toBeInstanceOf(ProtocolError);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });
});
