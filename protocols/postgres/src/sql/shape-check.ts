/**
 * Checks the shape lexer against PostgreSQL's scanner on one text: every literal it abstracted
 * must be exactly one scanner literal of a matching kind, every comment it skipped one scanner
 * comment, and the scanner must find no string literal the lexer left in the key. A shape serves
 * other texts only after this holds for the text it was made from and the first text it serves.
 */

import type { PgParser, TokenTypes } from './pg-parser.js';
import type { LexedSql, LiteralClass } from './sql-lexer.js';
import { offsetMap } from './utf8-offsets.js';

export function lexerAgreesWithScanner(text: string, lexed: LexedSql, parser: PgParser): boolean {
  const scanned = parser.scan(text);
  if (!scanned.ok) return false;
  const types = parser.tokenTypes;
  const map = offsetMap(text);
  const strings = new Set([types.string, types.unicodeString, types.bitString, types.hexString]);
  const commentTypes = new Set([types.lineComment, types.blockComment]);
  let li = 0;
  let ci = 0;
  for (const tok of scanned.tokens) {
    const start = map.fromByte(tok.start);
    const end = map.fromByte(tok.end);
    if (commentTypes.has(tok.tokenType)) {
      const comment = lexed.comments[ci++];
      if (comment === undefined || comment.start !== start || comment.end !== end) return false;
      continue;
    }
    const literal = lexed.literals[li];
    if (literal !== undefined && literal.start < end) {
      if (literal.start !== start || literal.end !== end || !matches(literal.cls, tok.tokenType, types)) {
        return false;
      }
      li++;
      continue;
    }
    if (strings.has(tok.tokenType)) return false;
  }
  return li === lexed.literals.length && ci === lexed.comments.length;
}

function matches(cls: LiteralClass, tokenType: number, types: TokenTypes): boolean {
  switch (cls) {
    case 's':
    case 'e':
    case 'd':
      return tokenType === types.string;
    case 'i':
      return tokenType === types.integer;
    case 'f':
      return tokenType === types.float;
  }
}
