/** Field-level codecs of COPY's text format (CopyAttributeOutText and the reader's escapes). */

/** A row from its fields, separated by the one-byte delimiter. */
export function joinFields(parts: readonly Buffer[], delimiter: number): Buffer {
  const sep = Buffer.from([delimiter]);
  const list: Buffer[] = [];
  parts.forEach((p, i) => {
    if (i > 0) list.push(sep);
    list.push(p);
  });
  return Buffer.concat(list);
}

const ESCAPES: Record<string, number> = { b: 8, f: 12, n: 10, r: 13, t: 9, v: 11 };

/** COPY text format: backslash escapes (C-like, octal, \x hex, and any other escaped byte). */
export function decodeTextField(raw: Buffer): string {
  if (!raw.includes(92)) return utf8OrLatin1(raw);
  const out: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as number;
    if (c !== 92 || i + 1 >= raw.length) {
      out.push(c);
      continue;
    }
    const n = raw[++i] as number;
    const ch = String.fromCharCode(n);
    if (ch in ESCAPES) out.push(ESCAPES[ch] as number);
    else if (n >= 48 && n <= 55) {
      let v = n - 48;
      for (
        let k = 0;
        k < 2 && i + 1 < raw.length && (raw[i + 1] as number) >= 48 && (raw[i + 1] as number) <= 55;
        k++
      )
        v = v * 8 + ((raw[++i] as number) - 48);
      out.push(v & 0xff);
    } else if (ch === 'x' && i + 1 < raw.length && isHex(raw[i + 1] as number)) {
      let v = Number.parseInt(String.fromCharCode(raw[++i] as number), 16);
      if (i + 1 < raw.length && isHex(raw[i + 1] as number))
        v = v * 16 + Number.parseInt(String.fromCharCode(raw[++i] as number), 16);
      out.push(v);
    } else out.push(n);
  }
  return utf8OrLatin1(Buffer.from(out));
}

/** CopyAttributeOutText's escaping: backslash, the C control escapes and the delimiter. */
export function encodeTextField(value: string, delimiter: string): string {
  let out = '';
  for (const ch of value) {
    switch (ch) {
      case '\\':
        out += '\\\\';
        break;
      case '\b':
        out += '\\b';
        break;
      case '\f':
        out += '\\f';
        break;
      case '\n':
        out += '\\n';
        break;
      case '\r':
        out += '\\r';
        break;
      case '\t':
        out += '\\t';
        break;
      case '\v':
        out += '\\v';
        break;
      default:
        out += ch === delimiter ? `\\${ch}` : ch;
    }
  }
  return out;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

export function utf8OrLatin1(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  return text.includes('\uFFFD') && !bytes.includes(Buffer.from('\uFFFD')) ? bytes.toString('latin1') : text;
}
