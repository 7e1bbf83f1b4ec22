// Result masking for the PostgreSQL relay: DataRows, COPY data, errors and notifications, with
// lineage from the statement text. Pure: no sockets, no logging.

export type { CatalogHints, FieldInfo } from './column-plan.js';
export type { CopyColumns, CopyMasker, CopyOutInfo } from './copy-masker.js';
export type { MaskableErrorFields } from './error-masking.js';
export {
  analyzeLineage,
  analyzeLineageByStatement,
  createLineageAnalyzer,
  type LineageAnalyzer,
  lineageFromTree,
} from './lineage-analyzer.js';
export {
  type ColumnLineage,
  type CopyFormat,
  type CopyLineage,
  type NamedQueryRef,
  OPAQUE_LINEAGE,
  type StatementLineage,
} from './lineage-types.js';
export type { PrefilterOption, ResultMaskingPolicy } from './masking-policy.js';
export {
  createResultMasker,
  type FieldLike,
  fieldInfo,
  type MaskingStats,
  type ResultMasker,
  type ResultMaskerOptions,
  type RowDescriptionInfo,
  type RowMasker,
} from './result-masker.js';
export { readRowDescription } from './row-description.js';
export type { TypedValues } from './value-masker.js';
