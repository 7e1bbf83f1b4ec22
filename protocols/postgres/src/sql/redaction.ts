/**
 * Replaces secret literals in a query text by `'[REDACTED]'`. Positions come from PostgreSQL's own
 * scanner, so `'it''s'`, `E'a\'b'`, `U&'…' UESCAPE '!'`, `$$x$$` and `$tag$x$tag$` are cut exactly
 * where the server would cut them. When a secret cannot be located (it should not happen), the
 * whole statement is replaced: a statement missing from the log beats a password in it.
 */
import type { PgParser, ScanToken } from './pg-parser.js';
import type { SecretSite } from './secret-sites.js';
import { type OffsetMap, offsetMap } from './utf8-offsets.js';

export const REDACTED_LITERAL = "'[REDACTED]'";
export const REDACTED_STATEMENT = '/* statement redacted: it holds a secret */';

export interface Redacted {
  readonly text: string;
  /**
   * Every secret value, decoded (`it's`) and, when different, as written between the quotes
   * (`it''s`), so that a log scrubber can find either spelling elsewhere.
   */
  readonly secrets: readonly string[];
}

interface Cut {
  readonly start: number;
  readonly end: number;
  readonly replacement: string;
}

export function redactSecrets(text: string, sites: readonly SecretSite[], parser: PgParser): Redacted {
  const secrets = new Set<string>();
  for (const site of sites) if (site.value !== undefined && site.value !== '') secrets.add(site.value);
  const map = offsetMap(text);
  const scanned = parser.scan(text);
  const tokens = scanned.ok ? scanned.tokens : [];
  const locate = new Locator(text, tokens, map, parser);
  const cuts: Cut[] = [];
  for (const site of sites) {
    const span = scanned.ok ? locate.literal(site) : undefined;
    if (span !== undefined) {
      cuts.push({ ...span, replacement: REDACTED_LITERAL });
      const body = literalBody(text.slice(span.start, span.literalEnd));
      if (body !== '' && body !== site.value) secrets.add(body);
    } else if (site.value !== undefined) {
      const start = map.fromByte(site.statement.start);
      const end = site.statement.end < 0 ? text.length : map.fromByte(site.statement.end);
      cuts.push({ start, end, replacement: REDACTED_STATEMENT });
    }
  }
  return { text: applyCuts(text, cuts), secrets: [...secrets] };
}

class Locator {
  constructor(
    private readonly text: string,
    private readonly tokens: readonly ScanToken[],
    private readonly map: OffsetMap,
    private readonly parser: PgParser,
  ) {}

  /** Character span of the site's literal (with a trailing UESCAPE clause), if found. */
  literal(site: SecretSite): { start: number; end: number; literalEnd: number } | undefined {
    const index = this.literalIndex(site);
    return index < 0 ? undefined : this.span(index);
  }

  private literalIndex(site: SecretSite): number {
    const t = this.tokens;
    switch (site.type) {
      case 'literal':
        return t.findIndex((tok, i) => tok.start === site.location && this.isString(i));
      case 'option': {
        // The option's location is at its first word: `PASSWORD`, `ENCRYPTED PASSWORD`, `SET name`.
        const first = t.findIndex((tok) => tok.start >= site.location);
        if (first < 0) return -1;
        const name = site.name.toLowerCase();
        for (let k = first; k < Math.min(first + 3, t.length - 1); k++) {
          if (this.word(k) === name && this.isString(k + 1)) return k + 1;
        }
        return -1;
      }
      case 'after-keyword': {
        const { start, end } = site.statement;
        for (let k = 0; k < t.length - 1; k++) {
          const tok = t[k] as ScanToken;
          if (tok.start < start || (end >= 0 && tok.start >= end)) continue;
          if (this.word(k) === site.keyword && this.isString(k + 1)) return k + 1;
        }
        return -1;
      }
    }
  }

  private span(index: number): { start: number; end: number; literalEnd: number } {
    const types = this.parser.tokenTypes;
    const tok = this.tokens[index] as ScanToken;
    let last = tok;
    const next = this.tokens[index + 1];
    const escapeChar = this.tokens[index + 2];
    if (
      tok.tokenType === types.unicodeString &&
      next?.tokenType === types.uescape &&
      escapeChar !== undefined
    ) {
      last = escapeChar;
    }
    return {
      start: this.map.fromByte(tok.start),
      end: this.map.fromByte(last.end),
      literalEnd: this.map.fromByte(tok.end),
    };
  }

  private isString(index: number): boolean {
    const type = this.tokens[index]?.tokenType;
    const types = this.parser.tokenTypes;
    return type === types.string || type === types.unicodeString;
  }

  /** A token's text as an identifier or keyword compares: unquoted or lower-cased. */
  private word(index: number): string {
    const tok = this.tokens[index] as ScanToken;
    const raw = this.text.slice(this.map.fromByte(tok.start), this.map.fromByte(tok.end));
    if (raw.startsWith('"') && raw.endsWith('"') && raw.length >= 2)
      return raw.slice(1, -1).replace(/""/g, '"');
    return raw.toLowerCase();
  }
}

/** The characters between a string literal's delimiters, as written. */
export function literalBody(raw: string): string {
  const dollar = /^\$[^$]*\$/.exec(raw);
  if (dollar !== null) {
    const tag = dollar[0].length;
    return raw.length >= 2 * tag ? raw.slice(tag, raw.length - tag) : '';
  }
  const open = raw.indexOf("'");
  if (open < 0 || !raw.endsWith("'") || raw.length < open + 2) return raw;
  return raw.slice(open + 1, -1);
}

function applyCuts(text: string, cuts: readonly Cut[]): string {
  if (cuts.length === 0) return text;
  // Widest first at equal starts, so a whole-statement cut swallows the literals inside it.
  const ordered = [...cuts].sort((a, b) => a.start - b.start || b.end - a.end);
  let out = '';
  let at = 0;
  for (const cut of ordered) {
    if (cut.start < at) {
      continue;
    }
    out += text.slice(at, cut.start) + cut.replacement;
    at = cut.end;
  }
  return out + text.slice(at);
}
