import { describe, expect, it } from 'vitest';
import { BackendFramer } from './backend-framer.js';

function message(code: string, body: Buffer): Buffer {
  const out = Buffer.alloc(5 + body.length);
  out[0] = code.charCodeAt(0);
  out.writeInt32BE(4 + body.length, 1);
  body.copy(out, 5);
  return out;
}

describe('BackendFramer', () => {
  const stream = Buffer.concat([
    message('T', Buffer.from('row description')),
    message('D', Buffer.alloc(300, 7)),
    message('C', Buffer.from('SELECT 1\0')),
    message('Z', Buffer.from('I')),
  ]);

  it('yields whole messages at every split of the stream, views when a chunk holds them', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const framer = new BackendFramer();
      const seen: Buffer[] = [];
      framer.push(stream.subarray(0, cut), (_c, raw) => seen.push(Buffer.from(raw)));
      framer.push(stream.subarray(cut), (_c, raw) => seen.push(Buffer.from(raw)));
      expect(Buffer.concat(seen).equals(stream)).toBe(true);
      expect(seen.map((m) => String.fromCharCode(m[0]!))).toEqual(['T', 'D', 'C', 'Z']);
      expect(framer.bufferedBytes).toBe(0);
    }
    const whole: Buffer[] = [];
    new BackendFramer().push(stream, (_c, raw) => whole.push(raw));
    expect(whole[1]!.buffer).toBe(stream.buffer);
  });

  it('handles byte-by-byte delivery', () => {
    const framer = new BackendFramer();
    const codes: number[] = [];
    for (const b of stream) framer.push(Buffer.from([b]), (c) => codes.push(c));
    expect(codes.map((c) => String.fromCharCode(c)).join('')).toBe('TDCZ');
  });

  it('refuses impossible lengths', () => {
    const bad = Buffer.from([0x44, 0, 0, 0, 2]);
    expect(() => new BackendFramer().push(bad, () => undefined)).toThrow(/length 2/);
    const huge = Buffer.from([0x44, 0x7f, 0, 0, 0]);
    expect(() => new BackendFramer(1024).push(huge, () => undefined)).toThrow(/length/);
  });
});
