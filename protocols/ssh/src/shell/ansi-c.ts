/**
 * Bash's ANSI-C quoting, `$'…'`. It matters for policy because it spells any program name without
 * writing it: `$'\x72m'` is `rm`. Escapes produce bytes (`\xHH`, `\nnn`) or code points (`\u`,
 * `\U`); the bytes are decoded as UTF-8, as in the usual UTF-8 locale.
 */

const SIMPLE: Readonly<Record<string, number>> = {
  a: 0x07,
  b: 0x08,
  e: 0x1b,
  E: 0x1b,
  f: 0x0c,
  n: 0x0a,
  r: 0x0d,
  t: 0x09,
  v: 0x0b,
  '\\': 0x5c,
  "'": 0x27,
  '"': 0x22,
  '?': 0x3f,
};

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');

function digits(body: string, from: number, max: number, re: RegExp): string {
  let i = from;
  while (i < body.length && i - from < max && re.test(body.charAt(i))) i++;
  return body.slice(from, i);
}

/**
 * The value of `$'…'` given the text between the quotes. A NUL byte ends the value: bash keeps C
 * strings, so `$'r\0junk'm` is `rm`.
 */
export function decodeAnsiC(body: string): string {
  const bytes: number[] = [];
  const pushCodePoint = (cp: number): void => {
    for (const b of encoder.encode(String.fromCodePoint(cp))) bytes.push(b);
  };
  let i = 0;
  while (i < body.length) {
    const c = body.charAt(i);
    if (c !== '\\' || i + 1 >= body.length) {
      const cp = body.codePointAt(i) as number;
      pushCodePoint(cp);
      i += cp > 0xffff ? 2 : 1;
      continue;
    }
    const e = body.charAt(i + 1);
    i += 2;
    let byte: number | undefined;
    const simple = SIMPLE[e];
    if (simple !== undefined) {
      byte = simple;
    } else if (e >= '0' && e <= '7') {
      const oct = e + digits(body, i, 2, /[0-7]/);
      i += oct.length - 1;
      byte = Number.parseInt(oct, 8) & 0xff;
    } else if (e === 'x') {
      const hex = digits(body, i, 2, /[0-9A-Fa-f]/);
      if (hex === '') {
        bytes.push(0x5c, 0x78);
        continue;
      }
      i += hex.length;
      byte = Number.parseInt(hex, 16);
    } else if (e === 'u' || e === 'U') {
      const hex = digits(body, i, e === 'u' ? 4 : 8, /[0-9A-Fa-f]/);
      if (hex === '') {
        bytes.push(0x5c, e.charCodeAt(0));
        continue;
      }
      i += hex.length;
      const cp = Number.parseInt(hex, 16);
      if (cp === 0) break;
      pushCodePoint(cp <= 0x10ffff ? cp : 0xfffd);
      continue;
    } else if (e === 'c' && i < body.length) {
      const x = body.charAt(i);
      i++;
      // `\c\\` takes the pair as one backslash, as bash does.
      if (x === '\\' && body.charAt(i) === '\\') i++;
      byte = x === '?' ? 0x7f : x.toUpperCase().charCodeAt(0) & 0x1f;
    } else {
      // An unknown escape stays as written, backslash included.
      bytes.push(0x5c);
      const cp = body.codePointAt(i - 1) as number;
      if (cp > 0xffff) i++;
      pushCodePoint(cp);
      continue;
    }
    if (byte === 0) break;
    bytes.push(byte);
  }
  return decoder.decode(new Uint8Array(bytes));
}
