/**
 * libpg-query's JSON leaves out empty strings, so `COPY t FROM ''` — a server file named '', which
 * PostgreSQL tries to open — has the same tree as `COPY t FROM STDIN`. When the tree names neither
 * a file nor a program, the statement's tokens decide: what follows the top-level FROM or TO (and
 * PROGRAM) is either the STDIN/STDOUT keyword or a string literal.
 */
import type { PgParser } from './pg-parser.js';
import { offsetMap } from './utf8-offsets.js';

/** Whether a COPY statement whose tree shows no file names one after all (fails closed). */
export function copyNamesServerFile(statement: string, parser: PgParser): boolean {
  const scanned = parser.scan(statement);
  if (!scanned.ok) return true;
  const map = offsetMap(statement);
  const word = (i: number): string => {
    const tok = scanned.tokens[i];
    return tok === undefined
      ? ''
      : statement.slice(map.fromByte(tok.start), map.fromByte(tok.end)).toLowerCase();
  };
  let depth = 0;
  for (let i = 0; i < scanned.tokens.length; i++) {
    const w = word(i);
    if (w === '(') depth++;
    else if (w === ')') depth--;
    else if (depth === 0 && (w === 'from' || w === 'to')) {
      const target = word(i + 1) === 'program' ? i + 2 : i + 1;
      const type = scanned.tokens[target]?.tokenType;
      return type === parser.tokenTypes.string || type === parser.tokenTypes.unicodeString;
    }
  }
  return true;
}
