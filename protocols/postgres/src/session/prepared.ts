import type { CommandTicket } from '@gatehouse/core';
import type { SqlStatementFacts } from '@gatehouse/policy';
import type { FieldInfo } from '../masking/index.js';
import type { SqlExtras } from '../sql/index.js';

/** One definition a prepared-statement name may have upstream. */
export interface PreparedCandidate {
  /** The statement text as logged (redacted). */
  readonly text: string;
  /** The text's shape (`SqlAnalysis.shape`), for lineage. */
  readonly shape: string | undefined;
  readonly statements: readonly SqlStatementFacts[];
  /** The judgement made when it was prepared by a Parse message; its first execution uses it. */
  ticket: CommandTicket | undefined;
  /** PREPARE/EXECUTE/DEALLOCATE inside the statement itself (a Parse of `PREPARE x AS …`). */
  readonly extras: SqlExtras | undefined;
}

/**
 * Prepared statements of one session, by name. Parse messages and SQL PREPARE share one namespace
 * in PostgreSQL, so both land here. While a definition is in flight its fate is unknown (a Parse
 * or PREPARE of an existing name fails upstream), so a name maps to every definition it may have,
 * and a statement run under it is judged against all of them: never more leniently than what
 * really runs. Completions narrow the list again.
 */
export class PreparedStatements {
  readonly #named = new Map<string, PreparedCandidate[]>();
  #unnamed: PreparedCandidate | undefined;

  /** A definition is being sent upstream. */
  define(name: string, candidate: PreparedCandidate): void {
    if (name === '') {
      // PostgreSQL drops the previous unnamed statement before parsing the new one.
      this.#unnamed = candidate;
      return;
    }
    const list = this.#named.get(name);
    if (list === undefined) this.#named.set(name, [candidate]);
    else list.push(candidate);
  }

  /** The upstream accepted the definition: the name cannot have held another one. */
  confirm(name: string, candidate: PreparedCandidate): void {
    if (name !== '') this.#named.set(name, [candidate]);
  }

  /** The upstream refused the definition (or never ran it). */
  withdraw(name: string, candidate: PreparedCandidate): void {
    if (name === '') {
      if (this.#unnamed === candidate) this.#unnamed = undefined;
      return;
    }
    const list = this.#named.get(name);
    if (list === undefined) return;
    const rest = list.filter((c) => c !== candidate);
    if (rest.length === 0) this.#named.delete(name);
    else this.#named.set(name, rest);
  }

  /** Every definition the name may have; empty when the gateway saw none. */
  lookup(name: string): readonly PreparedCandidate[] {
    if (name === '') return this.#unnamed === undefined ? [] : [this.#unnamed];
    return this.#named.get(name) ?? [];
  }

  /** Close of a statement, or DEALLOCATE, confirmed by the upstream. */
  drop(name: string): void {
    if (name === '') this.#unnamed = undefined;
    else this.#named.delete(name);
  }

  /** DEALLOCATE ALL / DISCARD ALL, confirmed: every named statement is gone (the unnamed one stays). */
  dropAllNamed(): void {
    this.#named.clear();
  }

  /** A simple Query destroys the unnamed statement. */
  dropUnnamed(): void {
    this.#unnamed = undefined;
  }
}

/** A portal made by a Bind message, until it is replaced or closed. */
export interface Portal {
  readonly name: string;
  readonly statement: string;
  readonly candidates: readonly PreparedCandidate[];
  readonly params: readonly (Buffer | null)[];
  readonly paramFormats: readonly number[];
  /** Columns of its rows, once known (a Describe of the portal, the client's or the gateway's). */
  fields: readonly FieldInfo[] | undefined;
  /** The judgement its executions are logged under; set by the first Execute. */
  ticket: CommandTicket | undefined;
  /** A Describe of it was sent (by the client or the gateway), so its columns will be known. */
  described: boolean;
}

/** Statement facts to judge a run of a statement that has these possible definitions. */
export function candidateFacts(candidates: readonly PreparedCandidate[]): SqlStatementFacts[] {
  const out: SqlStatementFacts[] = [];
  for (const c of candidates) out.push(...c.statements);
  return out;
}
