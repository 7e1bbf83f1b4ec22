/**
 * Lineage of a statement's result columns: which source columns each output value is computed
 * from, through any expression, subquery, CTE or set operation. Produced from the SQL text alone
 * (no catalog), so tables are named as written and a table's own columns are unknown.
 */

export interface ColumnLineage {
  /** The name PostgreSQL gives the column (alias, column or function name, `?column?`). */
  readonly name: string | undefined;
  /**
   * Source columns: `table.column`, or a bare `column` when its table cannot be told, and
   * `table.*` for a whole row of a table (`row_to_json(u)`, `u::text`, `json_agg(u)`).
   */
  readonly sources: readonly string[];
  /**
   * For values built from whole rows of subqueries or CTEs (`row_to_json(t)` over
   * `(SELECT email AS e …) t`): the sources of each field, by the name it has in that row (for
   * JSON output, the key).
   */
  readonly fields?: Readonly<Record<string, readonly string[]>>;
  /**
   * `*` or `t.*` over a table (or view, or function) whose columns are not known from the text:
   * this entry stands for as many result columns as the table has (possibly several), each a
   * plain column of the table, named as in the table.
   */
  readonly expands?: string;
}

export interface CopyFormat {
  readonly format: 'text' | 'csv' | 'binary';
  /** Field separator: tab (text) or comma (CSV) unless set. */
  readonly delimiter: string;
  /** NULL marker: `\N` (text) or the empty string (CSV) unless set. */
  readonly null: string;
  /** CSV quote and escape characters (escape defaults to the quote). */
  readonly quote: string;
  readonly escape: string;
  /** The first line holds column names. */
  readonly header: boolean;
}

export interface CopyLineage extends CopyFormat {
  /** `COPY table [(columns)] TO STDOUT`: the table. */
  readonly table?: string;
}

/** A cursor or prepared statement a statement defines or runs (the relay keeps the mapping). */
export interface NamedQueryRef {
  readonly kind: 'cursor' | 'prepared';
  readonly name: string;
}

export interface StatementLineage {
  /**
   * Result columns in order; undefined when the text does not tell the result's shape (SHOW,
   * CALL, EXPLAIN; FETCH and EXECUTE: see `uses`), in which case detectors and column names are
   * all there is.
   */
  readonly columns: readonly ColumnLineage[] | undefined;
  /**
   * The statement could not be analysed (nesting too deep): every column of its result must be
   * masked as a whole. Never set for texts PostgreSQL's parser accepts at ordinary depths.
   */
  readonly opaque: boolean;
  /** COPY … TO STDOUT: the data format and, for a table, its name. */
  readonly copy?: CopyLineage;
  /** DECLARE CURSOR / PREPARE: the lineage above belongs to this cursor or prepared statement. */
  readonly declares?: NamedQueryRef;
  /** FETCH / MOVE / EXECUTE: the result is that of this cursor or prepared statement. */
  readonly uses?: NamedQueryRef;
}

/** Lineage to pass when the text could not be analysed at all: mask every column as a whole. */
export const OPAQUE_LINEAGE: StatementLineage = Object.freeze({ columns: undefined, opaque: true });
