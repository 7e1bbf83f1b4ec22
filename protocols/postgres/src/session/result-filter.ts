import type { SqlStatementFacts } from '@gatehouse/policy';
import type { FieldInfo } from '../masking/index.js';

/** What is known about the results a backend message belongs to. One object per judged run. */
export interface ResultContext {
  /** Columns of the rows being relayed (the RowDescription, with this execution's formats), when known. */
  readonly fields: readonly FieldInfo[] | undefined;
  /** Inside COPY OUT: 0 for text, 1 for binary; undefined otherwise. */
  readonly copyFormat: number | undefined;
  /** The (redacted) SQL text producing these results, for lineage; undefined when not known. */
  readonly sql: string | undefined;
  /** The text's shape (`SqlAnalysis.shape`), when the SQL analyzer gave one: lineage is shared by it. */
  readonly shape: string | undefined;
  /** Facts of the statements of that text, and which of them is running. */
  readonly statements: readonly SqlStatementFacts[] | undefined;
  readonly statementIndex: number;
}

export const NO_RESULT: ResultContext = {
  fields: undefined,
  copyFormat: undefined,
  sql: undefined,
  shape: undefined,
  statements: undefined,
  statementIndex: 0,
};

/**
 * The one function every upstream message passes through before it reaches the client: DataRow,
 * CopyData (COPY OUT), ErrorResponse, NoticeResponse, NotificationResponse, CommandComplete and
 * all others. Returns `raw` itself when the message is unchanged (it is then forwarded as
 * received), the rebuilt message (or several, concatenated), or an empty buffer to hold it back.
 */
export interface BackendMessageFilter {
  filter(code: number, raw: Buffer, context: ResultContext): Buffer;
}
