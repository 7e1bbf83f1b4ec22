export { REDACTED_LITERAL } from './redaction.js';
export type {
  SqlAnalysis,
  SqlAnalysisErrorCode,
  SqlAnalyzer,
  SqlAnalyzerOptions,
  SqlAnalyzerStats,
} from './sql-analysis.js';
export { analyzeSql, createSqlAnalyzer, initSqlAnalyzer } from './sql-analyzer.js';
export { NO_EXTRAS, type SqlExtras } from './sql-extras.js';
