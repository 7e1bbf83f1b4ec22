/**
 * SQL text → the facts the policy engine judges, with PostgreSQL's own parser. Pure: no sockets, no
 * policy decisions, no state shared between analyzers but the loaded parser. A text the parser
 * cannot parse is an `ok: false` answer, which the caller must treat as a refusal.
 *
 * Caching, per analyzer (one per gateway or connection): an exact-text LRU, and a shape LRU keyed
 * by the text with its literals abstracted (sql-lexer.ts), so that the same statement with other
 * values reuses the facts without parsing. Facts are shared between texts of one shape only when
 * no fact was read from a literal's value (`set_config('role', …)`, EXPLAIN option values) and the
 * text holds no secret; secret-bearing texts are never cached at all, so that no password stays in
 * memory longer than its statement.
 */
import type { SqlStatementFacts } from '@gatehouse/policy';
import { maskFailedText } from './failed-text.js';
import { LruCache } from './lru-cache.js';
import { loadPgParser, type PgParser, pgParser } from './pg-parser.js';
import { redactSecrets } from './redaction.js';
import { lexerAgreesWithScanner } from './shape-check.js';
import type {
  SqlAnalysis,
  SqlAnalysisErrorCode,
  SqlAnalyzer,
  SqlAnalyzerOptions,
  SqlAnalyzerStats,
} from './sql-analysis.js';
import { extrasFromTree, NO_EXTRAS, type SqlExtras } from './sql-extras.js';
import { type LexedSql, lexSql } from './sql-lexer.js';
import { factsFromTree } from './statement-facts.js';

interface Limits {
  readonly cacheSize: number;
  readonly maxTextBytes: number;
  readonly maxCachedTextLength: number;
  readonly maxNesting: number;
}

const DEFAULTS: Limits = {
  cacheSize: 1000,
  maxTextBytes: 1024 * 1024,
  maxCachedTextLength: 16 * 1024,
  maxNesting: 2500,
};

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Loads PostgreSQL's parser; resolves once it can be used. Safe to call any number of times. */
export async function initSqlAnalyzer(): Promise<void> {
  await loadPgParser();
}

/** Analyses one text without caching, with the default limits. */
export function analyzeSql(text: string): SqlAnalysis {
  return guarded(() => analyzeUncached(text, DEFAULTS).analysis);
}

export function createSqlAnalyzer(options: SqlAnalyzerOptions = {}): SqlAnalyzer {
  return new CachingSqlAnalyzer(limitsFrom(options));
}

function limitsFrom(options: SqlAnalyzerOptions): Limits {
  const pick = (value: number | undefined, fallback: number): number =>
    typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.floor(value) : fallback;
  return {
    cacheSize: pick(options.cacheSize, DEFAULTS.cacheSize),
    maxTextBytes: pick(options.maxTextBytes, DEFAULTS.maxTextBytes),
    maxCachedTextLength: pick(options.maxCachedTextLength, DEFAULTS.maxCachedTextLength),
    maxNesting: pick(options.maxNesting, DEFAULTS.maxNesting),
  };
}

interface ShapeEntry {
  readonly analysis: SqlAnalysis & { ok: true };
  /** The text the entry was made from, until the shape has been checked against the scanner. */
  sample: string | undefined;
  state: 'unchecked' | 'checked' | 'refused';
}

class CachingSqlAnalyzer implements SqlAnalyzer {
  private readonly exact: LruCache<string, SqlAnalysis>;
  private readonly shapes: LruCache<string, ShapeEntry>;
  private exactHits = 0;
  private shapeHits = 0;
  private parses = 0;

  constructor(private readonly limits: Limits) {
    this.exact = new LruCache(limits.cacheSize);
    this.shapes = new LruCache(limits.cacheSize);
  }

  analyze(text: string): SqlAnalysis {
    return guarded(() => this.run(text));
  }

  stats(): SqlAnalyzerStats {
    return {
      exactHits: this.exactHits,
      shapeHits: this.shapeHits,
      parses: this.parses,
      exactEntries: this.exact.size,
      shapeEntries: this.shapes.size,
      parserRestarts: pgParser()?.restarts ?? 0,
    };
  }

  clear(): void {
    this.exact.clear();
    this.shapes.clear();
  }

  private run(text: string): SqlAnalysis {
    const cacheable = typeof text === 'string' && text.length <= this.limits.maxCachedTextLength;
    if (cacheable) {
      const hit = this.exact.get(text);
      if (hit !== undefined) {
        this.exactHits++;
        return hit;
      }
    }
    const outcome = analyzeUncached(text, this.limits, (lexed, parser) =>
      this.fromShape(text, lexed, parser),
    );
    if (outcome.parsed) this.parses++;
    if (!cacheable) return outcome.analysis;
    if (outcome.cache) this.exact.set(text, outcome.analysis);
    const key = outcome.shapeKey;
    if (key !== undefined && outcome.analysis.ok && outcome.shareable) {
      if (this.shapes.get(key)?.state !== 'refused') {
        this.shapes.set(key, { analysis: outcome.analysis, sample: text, state: 'unchecked' });
      }
    }
    return outcome.analysis;
  }

  private fromShape(text: string, lexed: LexedSql, parser: PgParser): SqlAnalysis | undefined {
    if (lexed.shapeKey === undefined) return undefined;
    const entry = this.shapes.get(lexed.shapeKey);
    if (entry === undefined || entry.state === 'refused') return undefined;
    if (entry.state === 'unchecked') {
      const sample = entry.sample ?? '';
      const agrees =
        lexerAgreesWithScanner(sample, lexSql(sample), parser) && lexerAgreesWithScanner(text, lexed, parser);
      entry.sample = undefined;
      entry.state = agrees ? 'checked' : 'refused';
      if (!agrees) return undefined;
    }
    this.shapeHits++;
    return Object.freeze({ ...entry.analysis, redactedText: text, shape: lexed.shapeKey });
  }
}

interface Outcome {
  readonly analysis: SqlAnalysis;
  /** The text went through the parser. */
  readonly parsed: boolean;
  /** The answer may be kept for this exact text (deterministic, holds no secret). */
  readonly cache: boolean;
  /** The facts hold for any text of the same shape. */
  readonly shareable: boolean;
  readonly shapeKey: string | undefined;
}

type ShapeLookup = (lexed: LexedSql, parser: PgParser) => SqlAnalysis | undefined;

function analyzeUncached(text: string, limits: Limits, fromShape?: ShapeLookup): Outcome {
  const refused = (code: SqlAnalysisErrorCode, error: string, cache = false, position?: number): Outcome => {
    const logged =
      typeof text === 'string' ? maskFailedText(text, error) : { text: '', error, masked: false };
    return {
      analysis: failure(code, logged.error, logged.text, position),
      parsed: code === 'syntax_error' || code === 'unavailable',
      cache: cache && !logged.masked,
      shareable: false,
      shapeKey: undefined,
    };
  };
  if (typeof text !== 'string') return refused('invalid_text', 'the query text is not a string');
  if (
    text.length > limits.maxTextBytes ||
    (text.length * 3 > limits.maxTextBytes && utf8Length(text) > limits.maxTextBytes)
  ) {
    return refused('too_long', `the query text is longer than ${limits.maxTextBytes} bytes`);
  }
  if (text.includes('\u0000')) return refused('invalid_text', 'the query text contains a NUL character');
  if (LONE_SURROGATE.test(text)) return refused('invalid_text', 'the query text is not valid Unicode');
  if (text === '') {
    return {
      analysis: success([], text, []),
      parsed: false,
      cache: true,
      shareable: false,
      shapeKey: undefined,
    };
  }
  const parser = pgParser();
  if (parser === undefined) {
    return refused('unavailable', 'the SQL analyzer is not initialised (call initSqlAnalyzer first)');
  }
  const lexed = lexSql(text);
  if (lexed.nesting > limits.maxNesting) {
    return refused(
      'too_complex',
      `the statement nests too deeply to be analysed (estimated depth ${lexed.nesting}, limit ${limits.maxNesting})`,
      true,
    );
  }
  const shared = fromShape?.(lexed, parser);
  if (shared !== undefined) {
    return { analysis: shared, parsed: false, cache: true, shareable: false, shapeKey: undefined };
  }
  const raw = parser.parse(text);
  if (!raw.ok) {
    if (raw.reason === 'unavailable') return refused('unavailable', raw.message);
    const position = raw.cursor > 0 ? raw.cursor : undefined;
    const error = position === undefined ? raw.message : `${raw.message} (position ${position})`;
    return refused('syntax_error', error, true, position);
  }
  const parsed = { parsed: true, shapeKey: lexed.shapeKey };
  const facts = factsFromTree(raw.tree, { text, parser });
  const extras = extrasFromTree(text, raw.tree);
  if (facts.secretSites.length === 0) {
    const analysis = success(facts.statements, text, [], extras.extras);
    const shareable = !facts.literalDependent && !extras.literalDependent;
    return { ...parsed, analysis, cache: true, shareable };
  }
  const redacted = redactSecrets(text, facts.secretSites, parser);
  const analysis = success(facts.statements, redacted.text, redacted.secrets, extras.extras);
  return { ...parsed, analysis, cache: false, shareable: false };
}

function success(
  statements: readonly SqlStatementFacts[],
  redactedText: string,
  secrets: readonly string[],
  extras: SqlExtras = NO_EXTRAS,
): SqlAnalysis & { ok: true } {
  return Object.freeze({
    ok: true as const,
    statements: Object.freeze([...statements]),
    redactedText,
    secrets: Object.freeze([...secrets]),
    ...(extras === NO_EXTRAS ? {} : { extras }),
  });
}

function failure(
  code: SqlAnalysisErrorCode,
  error: string,
  redactedText: string,
  position?: number,
): SqlAnalysis {
  const base = { ok: false as const, code, error, redactedText };
  return Object.freeze(position === undefined ? base : { ...base, position });
}

function guarded(run: () => SqlAnalysis): SqlAnalysis {
  try {
    return run();
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    // Nothing is known about the text here, so none of it is logged.
    return failure('internal', `the statement could not be analysed: ${reason}`, '');
  }
}

function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
