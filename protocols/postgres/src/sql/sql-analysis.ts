/** The public shapes of SQL analysis. */
import type { SqlStatementFacts } from '@gatehouse/policy';
import type { SqlExtras } from './sql-extras.js';

/**
 * Why a text was not analysed. Every one of them means the statement must not be forwarded:
 * - `syntax_error`: PostgreSQL's parser rejects it (the server would too);
 * - `too_long`: longer than the configured maximum;
 * - `too_complex`: nested too deeply to parse safely (see sql-lexer.ts);
 * - `invalid_text`: a NUL character (the C parser would stop there and judge a prefix) or
 *   invalid UTF-16 (lone surrogates: the text cannot be encoded as the server would receive it);
 * - `unavailable`: the parser is not loaded or is restarting after a failure;
 * - `internal`: a bug in the analyzer.
 */
export type SqlAnalysisErrorCode =
  | 'syntax_error'
  | 'too_long'
  | 'too_complex'
  | 'invalid_text'
  | 'unavailable'
  | 'internal';

export type SqlAnalysis =
  | {
      readonly ok: true;
      /** One entry per statement of the text, in order; none for an empty text or only comments. */
      readonly statements: readonly SqlStatementFacts[];
      /** The text with secret literals replaced by `'[REDACTED]'`; the text itself when it has none. */
      readonly redactedText: string;
      /** Raw secret values found in the text, for scrubbing them wherever else they appear. */
      readonly secrets: readonly string[];
      /**
       * Set when the text was answered as another text's statement with other literal values
       * (its shape checked against PostgreSQL's scanner): texts with the same `shape` parse to the
       * same tree but for their literals' values, so what is read from the tree without looking
       * at a literal's value can be shared between them. Holds no literal value.
       */
      readonly shape?: string;
      /** SQL PREPARE/EXECUTE/DEALLOCATE names and refused settings; absent when the text has none. */
      readonly extras?: SqlExtras;
    }
  | {
      readonly ok: false;
      readonly code: SqlAnalysisErrorCode;
      /** The parser's message with its position, or why the text was refused. */
      readonly error: string;
      /**
       * The text to log. When the text mentions anything that may carry a credential (PASSWORD,
       * CONNECTION, dblink…) its string literals are masked here and in `error`, since a text
       * that does not parse cannot be redacted precisely.
       */
      readonly redactedText: string;
      /** 1-based position in characters (code points), as in a PostgreSQL ErrorResponse. */
      readonly position?: number;
    };

export interface SqlAnalyzerOptions {
  /** Entries in each of the two caches (exact texts, shapes). 0 disables caching. Default 1000. */
  readonly cacheSize?: number;
  /** Longest text analysed, in UTF-8 bytes. Default 1 MiB. */
  readonly maxTextBytes?: number;
  /** Longest text (in characters) that is cached; longer ones are analysed every time. Default 16 KiB. */
  readonly maxCachedTextLength?: number;
  /** Highest nesting estimate accepted before parsing (see sql-lexer.ts). Default 2500. */
  readonly maxNesting?: number;
}

export interface SqlAnalyzerStats {
  /** Texts answered from the exact-text cache. */
  readonly exactHits: number;
  /** Texts answered from the shape cache (same statement, other literal values). */
  readonly shapeHits: number;
  /** Texts that went through the parser. */
  readonly parses: number;
  readonly exactEntries: number;
  readonly shapeEntries: number;
  /** Parser instances replaced after one failed (process-wide). */
  readonly parserRestarts: number;
}

export interface SqlAnalyzer {
  /** Never throws; after `initSqlAnalyzer()` has resolved, never answers `unavailable` but briefly after a parser failure. */
  analyze(text: string): SqlAnalysis;
  stats(): SqlAnalyzerStats;
  clear(): void;
}
