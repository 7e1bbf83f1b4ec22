import { ConfigError } from '@gatehouse/core';
import {
  checkKeys,
  keyPath,
  readEnum,
  readList,
  readObject,
  readOptionalString,
  suggest,
} from '../config-reader.js';
import { compileConfigRegex } from '../config-regex.js';
import { compileGlobs, type GlobSet } from '../glob.js';
import { isKnownSqlKindName, SQL_KIND_ALIASES, SQL_STATEMENT_KINDS } from '../sql-kinds.js';
import type { SqlName, SqlStatementUnit } from '../units.js';

import type { CommandContext } from './command-context.js';

/** Judges one statement (undefined for a query with no statement) of a command. */
export type SqlMatcher = (statement: SqlStatementUnit | undefined, command: CommandContext) => boolean;

/**
 * Matches names the way rules mean them: a pattern without a dot names the object in any schema;
 * a pattern with a dot is matched against the qualified forms the reference may denote.
 */
class NameMatcher {
  private readonly bare: GlobSet | undefined;
  private readonly qualified: GlobSet | undefined;

  constructor(patterns: readonly string[]) {
    const bare = patterns.filter((p) => !p.includes('.'));
    const qualified = patterns.filter((p) => p.includes('.'));
    this.bare = bare.length > 0 ? compileGlobs(bare, { caseInsensitive: true }) : undefined;
    this.qualified = qualified.length > 0 ? compileGlobs(qualified, { caseInsensitive: true }) : undefined;
  }

  test(ref: SqlName): boolean {
    if (this.bare?.test(ref.name)) return true;
    if (this.qualified !== undefined) for (const q of ref.qualified) if (this.qualified.test(q)) return true;
    return false;
  }

  /** Deny/review: any reference matches. Allow: at least one reference, and all of them match. */
  testAll(refs: readonly SqlName[], broad: boolean): boolean {
    if (broad) {
      for (const r of refs) if (this.test(r)) return true;
      return false;
    }
    if (refs.length === 0) return false;
    for (const r of refs) if (!this.test(r)) return false;
    return true;
  }
}

export function compileSqlMatcher(raw: unknown, path: string, broad: boolean): SqlMatcher {
  const cfg = readObject(raw, path) ?? {};
  checkKeys(cfg, ['kinds', 'tables', 'functions', 'where', 'pattern'], path);
  const kindsPath = keyPath(path, 'kinds');
  const kindList = readList(cfg['kinds'], kindsPath);
  kindList?.forEach((k, i) => {
    if (!isKnownSqlKindName(k)) {
      throw new ConfigError(
        `unknown statement kind ${JSON.stringify(k)}${suggest(k, [...SQL_STATEMENT_KINDS, ...SQL_KIND_ALIASES])}; ` +
          `use a kind such as select, insert, drop, create_table or an alias: ${SQL_KIND_ALIASES.join(', ')}`,
        { path: keyPath(kindsPath, i) },
      );
    }
  });
  const kinds = kindList === undefined ? undefined : new Set(kindList);
  const tableList = readList(cfg['tables'], keyPath(path, 'tables'));
  const tables = tableList === undefined ? undefined : new NameMatcher(tableList);
  const functionList = readList(cfg['functions'], keyPath(path, 'functions'));
  const functions = functionList === undefined ? undefined : new NameMatcher(functionList);
  const whereAbsent = readEnum(cfg['where'], ['absent'] as const, keyPath(path, 'where')) === 'absent';
  const patternSource = readOptionalString(cfg['pattern'], keyPath(path, 'pattern'));
  // SQL keywords and unquoted identifiers are case-insensitive, so the pattern is too.
  const pattern =
    patternSource === undefined
      ? undefined
      : compileConfigRegex(patternSource, 'i', keyPath(path, 'pattern'));
  const needsStatement =
    kinds !== undefined || tables !== undefined || functions !== undefined || whereAbsent;

  return (statement, command) => {
    if (pattern !== undefined && !command.patternMatches(pattern, broad)) return false;
    if (!needsStatement) return true;
    if (statement === undefined) return false;
    if (kinds !== undefined && !intersects(statement.tokens, kinds)) return false;
    if (whereAbsent && statement.hasWhere !== false) return false;
    if (tables !== undefined && !tables.testAll(statement.tables, broad)) return false;
    if (functions !== undefined && !functions.testAll(statement.functions, broad)) return false;
    return true;
  };
}

function intersects(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  for (const x of a) if (b.has(x)) return true;
  return false;
}
