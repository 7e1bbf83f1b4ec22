/**
 * The parser and the scanner report positions in the UTF-8 bytes they were given (and errors in
 * code points); JavaScript strings index UTF-16 code units. These maps convert, and cost nothing
 * for the common all-ASCII text.
 */

const ASCII = /^[\x00-\x7f]*$/;

export interface OffsetMap {
  /** UTF-16 index of a UTF-8 byte offset (offsets inside a character map to its start). */
  fromByte(byteOffset: number): number;
  /** UTF-16 index of a 0-based code-point index. */
  fromCodePoint(index: number): number;
}

const IDENTITY: OffsetMap = {
  fromByte: (b) => b,
  fromCodePoint: (c) => c,
};

export function offsetMap(text: string): OffsetMap {
  if (ASCII.test(text)) return IDENTITY;
  let byteToUnit: Uint32Array | undefined;
  let pointToUnit: Uint32Array | undefined;
  const build = (): void => {
    const bytes: number[] = [];
    const points: number[] = [];
    for (let i = 0; i < text.length; ) {
      const cp = text.codePointAt(i) as number;
      const units = cp > 0xffff ? 2 : 1;
      const width = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      for (let k = 0; k < width; k++) bytes.push(i);
      points.push(i);
      i += units;
    }
    bytes.push(text.length);
    points.push(text.length);
    byteToUnit = Uint32Array.from(bytes);
    pointToUnit = Uint32Array.from(points);
  };
  const at = (table: Uint32Array, i: number): number =>
    table[Math.max(0, Math.min(i, table.length - 1))] as number;
  return {
    fromByte(b) {
      if (byteToUnit === undefined) build();
      return at(byteToUnit as Uint32Array, b);
    },
    fromCodePoint(c) {
      if (pointToUnit === undefined) build();
      return at(pointToUnit as Uint32Array, c);
    },
  };
}
