import { compilePolicy } from '@gatehouse/policy';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { completeUtf8, OutputMasker } from './output-masker.js';

const masker = compilePolicy({ connections: [{ name: 'k' }] }).masker('k', {
  subject: 'a',
  groups: [],
  issuer: 'i',
});

function collect(holdMs = 50): { m: OutputMasker; out: Buffer[]; text: () => string } {
  const out: Buffer[] = [];
  const m = new OutputMasker(masker, (b) => out.push(b), holdMs);
  return { m, out, text: () => Buffer.concat(out).toString('utf8') };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('OutputMasker', () => {
  it('masks a value cut in two by the process or the network, at any point', () => {
    const line = 'key AKIAIOSFODNN7EXAMPLE card 4111 1111 1111 1111 mail jane.doe@example.com\n';
    const whole = masker.maskText(line);
    expect(whole).not.toMatch(/AKIA|4111|jane/);
    for (let cut = 0; cut <= line.length; cut++) {
      const { m, text } = collect();
      m.push(Buffer.from(line.slice(0, cut)));
      m.push(Buffer.from(line.slice(cut)));
      m.end();
      expect(text(), `cut at ${cut}`).toBe(whole);
    }
  });

  it('gives what masking the whole output gives, for any chunking of lines (property)', () => {
    const word = fc.constantFrom(
      'jane.doe@example.com',
      '4111-1111-1111-1111',
      'AKIAIOSFODNN7EXAMPLE',
      'ok',
      'é✓',
      '\n',
    );
    fc.assert(
      fc.property(fc.array(word, { maxLength: 30 }), fc.array(fc.nat(), { maxLength: 8 }), (words, cuts) => {
        const bytes = Buffer.from(`${words.join(' ')}\n`);
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const { m, out } = collect();
        let last = 0;
        for (const p of [...points, bytes.length]) {
          m.push(bytes.subarray(last, p));
          last = p;
        }
        m.end();
        const expected = bytes
          .toString('utf8')
          .split('\n')
          .map((l) => masker.maskText(l))
          .join('\n');
        expect(Buffer.concat(out).toString('utf8')).toBe(expected);
      }),
    );
  });

  it('sends a whole line at once, and what might start a value after a short wait', () => {
    vi.useFakeTimers();
    const { m, out, text } = collect(50);
    m.push(Buffer.from('done\n# '));
    expect(text()).toBe('done\n');
    vi.advanceTimersByTime(49);
    expect(out).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(text()).toBe('done\n# ');
    // The halves of a value that arrive within the wait are masked together.
    m.push(Buffer.from('4111 1111 '));
    vi.advanceTimersByTime(10);
    m.push(Buffer.from('1111 1111'));
    vi.advanceTimersByTime(50);
    expect(text()).toBe('done\n# ****');
  });

  it('passes bytes that are not UTF-8 through unchanged, and still masks text after them', () => {
    const binary = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 37) % 256));
    const { m, out } = collect();
    m.push(Buffer.from('header\n'));
    m.push(binary.subarray(0, 100));
    m.push(binary.subarray(100));
    m.push(Buffer.from(' jane.doe@example.com\n'));
    m.end();
    const got = Buffer.concat(out);
    expect(got.subarray(0, 7 + binary.length)).toEqual(Buffer.concat([Buffer.from('header\n'), binary]));
    expect(got.subarray(7 + binary.length).toString('latin1')).toBe(' ****\n');
  });

  it('does not take bytes of binary output for accented letters of an address', () => {
    const { m, out } = collect();
    // As Latin-1, this reads ÉÉ@ÉÉ.ÉÉ — an address to a detector that accepts non-ASCII letters.
    const bytes = Buffer.from([0xff, 0xc9, 0xc9, 0x40, 0xc9, 0xc9, 0x2e, 0xc9, 0xc9, 0x0a]);
    expect(masker.maskText(bytes.toString('latin1'))).not.toBe(bytes.toString('latin1'));
    m.push(bytes);
    m.end();
    expect(Buffer.concat(out)).toEqual(bytes);
  });

  it('puts a character cut between two frames back together', () => {
    const text = 'café jané.doe@example.com ✓\n';
    const bytes = Buffer.from(text);
    for (let cut = 1; cut < bytes.length; cut++) {
      const { m, text: got } = collect();
      m.push(bytes.subarray(0, cut));
      m.push(bytes.subarray(cut));
      m.end();
      expect(got(), `cut at ${cut}`).toBe(masker.maskText(text));
    }
  });

  it('sends an unfinished character at the very end as its bytes', () => {
    const { m, out } = collect();
    m.push(Buffer.from([0x61, 0xe2, 0x9c]));
    m.end();
    expect(Buffer.concat(out)).toEqual(Buffer.from([0x61, 0xe2, 0x9c]));
  });

  it('sends nothing once discarded', () => {
    vi.useFakeTimers();
    const { m, out } = collect(10);
    m.push(Buffer.from('# '));
    m.discard();
    vi.advanceTimersByTime(100);
    expect(out).toHaveLength(0);
  });
});

describe('completeUtf8', () => {
  it.each([
    [[0x61, 0x62], 2],
    [[0x61, 0xc3], 1],
    [[0x61, 0xc3, 0xa9], 3],
    [[0xe2, 0x9c], 0],
    [[0xe2, 0x9c, 0x93], 3],
    [[0xf0, 0x9f, 0x98], 0],
    [[0xf0, 0x9f, 0x98, 0x80], 4],
    [[0x80, 0x80, 0x80, 0x80], 4],
  ])('%j → %i', (bytes, n) => {
    expect(completeUtf8(Uint8Array.from(bytes))).toBe(n);
  });
});
