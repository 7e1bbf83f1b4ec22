export * from './approvals/index.js';
export * from './commands.js';
export * from './config-schema.js';
export { BUILTIN_DETECTORS, type BuiltinDetector } from './masking/detectors.js';
export { FULL_MASK } from './masking/styles.js';
export { type CompileOptions, compilePolicy, explainDecision, type PolicyConfig } from './policy-engine.js';
export {
  ADMIN_FUNCTIONS,
  SERVER_FILE_READ_FUNCTIONS,
  SERVER_FILE_WRITE_FUNCTIONS,
  SQL_KIND_ALIASES,
  SQL_STATEMENT_KINDS,
  type SqlKindAlias,
  sqlStatementKind,
} from './sql-kinds.js';
