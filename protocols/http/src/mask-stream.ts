import { Transform } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Masker } from '@gatehouse/core';
import { JsonMasker } from './json-masker.js';
import type { BodyDecoding, MaskingPlan } from './masking-plan.js';
import { type IncrementalMasker, TextMasker } from './text-masker.js';

/**
 * Bytes in, masked bytes out, with backpressure: the masker sees text decoded across chunk
 * boundaries (a multi-byte character cut by the network is reassembled first) and its output is
 * encoded back in the same charset.
 */
export class MaskStream extends Transform {
  readonly #decoder: StringDecoder;
  readonly #encoding: 'utf8' | 'latin1';
  readonly #inner: IncrementalMasker;

  constructor(inner: IncrementalMasker, encoding: 'utf8' | 'latin1') {
    super();
    this.#inner = inner;
    this.#encoding = encoding;
    this.#decoder = new StringDecoder(encoding);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    try {
      const out = this.#inner.push(this.#decoder.write(chunk));
      if (out !== '') this.push(Buffer.from(out, this.#encoding));
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: (err?: Error | null) => void): void {
    try {
      const out = this.#inner.push(this.#decoder.end()) + this.#inner.end();
      if (out !== '') this.push(Buffer.from(out, this.#encoding));
      done();
    } catch (err) {
      done(err as Error);
    }
  }
}

export function maskStreamFor(
  plan: Extract<MaskingPlan, { kind: 'json' | 'text' }>,
  masker: Masker,
  maxJsonTokenChars: number,
): MaskStream {
  if (plan.kind === 'json')
    return new MaskStream(new JsonMasker(masker, { maxToken: maxJsonTokenChars }), 'utf8');
  return new MaskStream(new TextMasker(masker), plan.encoding);
}

export function decompressorFor(decode: BodyDecoding): Transform {
  if (decode === 'gzip') return createGunzip();
  if (decode === 'deflate') return createInflate();
  return createBrotliDecompress();
}
