/**
 * PostgreSQL's text output of arrays (array_out), records (record_out) and bytea (byteaout), parsed
 * so that masking can work on the elements and put the value back together in a form the client's
 * parser still reads. A rewrite callback returns a replacement (text or NULL) or `undefined` to
 * keep an element; the literal is rebuilt only around what changed. Malformed input answers
 * `undefined` from the parsers: the caller then falls back to treating the value as plain text.
 */

export type ElementRewrite = (value: string | null) => string | null | undefined;

interface Splice {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

function applySplices(text: string, splices: readonly Splice[]): string {
  let out = '';
  let pos = 0;
  for (const s of splices) {
    out += text.slice(pos, s.start) + s.text;
    pos = s.end;
  }
  return out + text.slice(pos);
}

/** An element in array_out's quoting: always quoted, so that no content can change the structure. */
function quoteArrayElement(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

/**
 * Rewrites the elements of an array literal such as `{a,"b c",NULL}` or `[0:1]={{x},{y}}`.
 * Returns the new literal, the same string when nothing changed, or undefined when malformed.
 */
export function rewriteArrayLiteral(
  text: string,
  rewrite: ElementRewrite,
  delimiter = ',',
): string | undefined {
  let i = 0;
  const n = text.length;
  if (text.charCodeAt(0) === 91 /* [ */) {
    const eq = text.indexOf('={');
    if (eq === -1) return undefined;
    i = eq + 1;
  }
  if (text[i] !== '{') return undefined;
  const splices: Splice[] = [];
  let depth = 0;
  let expectElement = false;
  for (; i < n; i++) {
    const c = text[i] as string;
    if (c === '{') {
      depth++;
      expectElement = true;
      continue;
    }
    if (c === '}') {
      depth--;
      expectElement = false;
      if (depth === 0) {
        i++;
        break;
      }
      continue;
    }
    if (c === delimiter) {
      expectElement = true;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') continue;
    if (!expectElement || depth === 0) return undefined;
    const start = i;
    let value = '';
    let quotedAny = false;
    // One element: quoted and unquoted stretches, backslash escapes, up to a delimiter or brace.
    for (; i < n; i++) {
      const ch = text[i] as string;
      if (ch === '"') {
        quotedAny = true;
        for (i++; i < n && text[i] !== '"'; i++) {
          if (text[i] === '\\') i++;
          if (i < n) value += text[i];
        }
        if (i >= n) return undefined;
        continue;
      }
      if (ch === '\\') {
        i++;
        if (i >= n) return undefined;
        value += text[i];
        continue;
      }
      if (ch === delimiter || ch === '}' || ch === '{') break;
      value += ch;
    }
    const end = i;
    i--;
    expectElement = false;
    const trimmed = quotedAny ? value : value.trim();
    const isNull = !quotedAny && trimmed.toUpperCase() === 'NULL';
    const replaced = rewrite(isNull ? null : trimmed);
    if (replaced === undefined || replaced === (isNull ? null : trimmed)) continue;
    splices.push({ start, end, text: replaced === null ? 'NULL' : quoteArrayElement(replaced) });
  }
  if (depth !== 0 || i !== n) return undefined;
  return splices.length === 0 ? text : applySplices(text, splices);
}

/** A record field in record_out's quoting: `"` and `\` doubled inside double quotes. */
function quoteRecordField(value: string): string {
  return `"${value.replace(/["\\]/g, '$&$&')}"`;
}

/** Rewrites the fields of a record literal such as `(1,"a b",,)` (an empty field is NULL). */
export function rewriteRecordLiteral(text: string, rewrite: ElementRewrite): string | undefined {
  const n = text.length;
  if (text.charCodeAt(0) !== 40 /* ( */ || text.charCodeAt(n - 1) !== 41 /* ) */) return undefined;
  const splices: Splice[] = [];
  let i = 1;
  for (;;) {
    const start = i;
    let value = '';
    let quotedAny = false;
    for (; i < n; i++) {
      const ch = text[i] as string;
      if (ch === '"') {
        quotedAny = true;
        for (i++; i < n; i++) {
          const q = text[i] as string;
          if (q === '\\') {
            i++;
            if (i < n) value += text[i];
          } else if (q === '"') {
            if (text[i + 1] === '"') {
              value += '"';
              i++;
            } else break;
          } else value += q;
        }
        if (i >= n) return undefined;
        continue;
      }
      if (ch === '\\') {
        i++;
        if (i >= n) return undefined;
        value += text[i];
        continue;
      }
      if (ch === ',' || ch === ')') break;
      value += ch;
    }
    if (i >= n) return undefined;
    const end = i;
    const isNull = !quotedAny && value === '';
    const replaced = rewrite(isNull ? null : value);
    if (replaced !== undefined && replaced !== (isNull ? null : value)) {
      splices.push({ start, end, text: replaced === null ? '' : quoteRecordField(replaced) });
    }
    if (text[i] === ')') {
      if (i !== n - 1) return undefined;
      break;
    }
    i++;
  }
  return splices.length === 0 ? text : applySplices(text, splices);
}

/** byteaout's text: `\x` hex (the default) or the escape format. Undefined when malformed. */
export function decodeByteaText(text: string): Buffer | undefined {
  if (text.startsWith('\\x')) {
    const hex = text.slice(2);
    if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) return undefined;
    return Buffer.from(hex, 'hex');
  }
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 92) {
      if (c > 0xff) return undefined;
      out.push(c);
      continue;
    }
    if (text[i + 1] === '\\') {
      out.push(92);
      i++;
      continue;
    }
    const oct = text.slice(i + 1, i + 4);
    if (!/^[0-3][0-7]{2}$/.test(oct)) return undefined;
    out.push(Number.parseInt(oct, 8));
    i += 3;
  }
  return Buffer.from(out);
}

export function encodeByteaHex(bytes: Uint8Array): string {
  return `\\x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex')}`;
}
