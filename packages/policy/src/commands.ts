/**
 * The attribute contracts between protocol modules (producers) and the policy engine (consumer).
 * The engine never sees bytes: a protocol module decodes its wire messages, fills one of these
 * shapes into `Command.attributes`, and the matchers read only these fields. The engine reads them
 * defensively (a malformed attribute never makes `decide` throw), but producers should fill them
 * exactly as documented here and in docs/policy.md. The attribute shapes are type aliases rather
 * than interfaces so that they are assignable to `Command.attributes` (a string-keyed record).
 */
import type { Command } from '@gatehouse/core';

/** Facts about one SQL statement, as the PostgreSQL parser saw it. */
export interface SqlStatementFacts {
  /**
   * The statement kind in the canonical vocabulary of `SQL_STATEMENT_KINDS` (`select`, `insert`,
   * `create_table`, `set_role`…). `sqlStatementKind(nodeType, node)` maps libpg-query parse nodes
   * to it.
   */
  readonly kind: string;
  /** Tables and views referenced, as written (`schema.table` when qualified), CTE names excluded. */
  readonly tables: readonly string[];
  /** Functions called, as written (`schema.fn` when qualified). */
  readonly functions: readonly string[];
  /** For UPDATE and DELETE: whether the statement has a WHERE clause (`WHERE CURRENT OF` counts). */
  readonly hasWhere?: boolean;
  /** True when the statement writes table data (INSERT/UPDATE/DELETE/MERGE/TRUNCATE, COPY FROM). */
  readonly modifiesData: boolean;
  /** EXPLAIN with the ANALYZE option: the explained statement really runs. */
  readonly analyze?: boolean;
  /** COPY … TO/FROM PROGRAM: runs a shell command on the database server. */
  readonly copyProgram?: boolean;
  /** COPY FROM a server file, or a server-file function such as `pg_read_file`. */
  readonly readsServerFiles?: boolean;
  /** COPY TO a server file, or `lo_export`. */
  readonly writesServerFiles?: boolean;
  /**
   * Statements that run as part of this one and are judged on their own: data-modifying CTEs
   * (`WITH d AS (DELETE …) SELECT …` carries the DELETE here), the statement of EXPLAIN ANALYZE,
   * the statement of PREPARE, and — when the producer tracks prepared statements — the prepared
   * statement of EXECUTE.
   */
  readonly nested?: readonly SqlStatementFacts[];
}

/** `Command.attributes` for `protocol: 'postgres', kind: 'query'`. */
export type PostgresQueryAttributes = {
  /** Every statement of the query string (simple protocol) or the one statement of a Parse. */
  readonly statements: readonly SqlStatementFacts[];
};

export type SshChannel = 'shell' | 'exec' | 'sftp' | 'port-forward' | 'agent-forward' | 'x11';

/**
 * `Command.attributes` for `protocol: 'ssh'`, kinds `exec` (an exec request), `shell-line` (one line
 * typed into an interactive shell), `channel` (a channel open: shell, sftp, forwarding) and `sftp`
 * (one SFTP operation).
 */
export type SshCommandAttributes = {
  readonly channel: SshChannel;
  /**
   * The argv of every simple command found after shell parsing — pipelines, lists, subshells,
   * command substitutions and the payload of `sh -c '…'` / `bash -c '…'` each contribute theirs.
   */
  readonly commands?: readonly (readonly string[])[];
  /**
   * The shell parser could not see everything that would run (`eval "$x"`, `$CMD`, `curl … | sh`,
   * unterminated quoting…). Allow rules never match an opaque command; `shell: { opaque: true }`
   * lets a deny or review rule catch them.
   */
  readonly opaque?: boolean;
  /** Why the command is opaque, for the audit trail. */
  readonly opaqueReasons?: readonly string[];
  /** `host:port` for port forwarding. */
  readonly destination?: string;
  /** SFTP operation in lower case: `open`, `read`, `write`, `remove`, `rename`, `mkdir`, `rmdir`, … */
  readonly sftpOp?: string;
  /** SFTP path the operation acts on. */
  readonly path?: string;
};

/** `Command.attributes` for `protocol: 'kubernetes', kind: 'request'`, as the API server classifies it. */
export type KubernetesRequestAttributes = {
  /** `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`, … */
  readonly verb: string;
  /** `''` for the core group. */
  readonly apiGroup: string;
  readonly apiVersion: string;
  readonly resource?: string;
  /** `exec`, `attach`, `portforward`, `proxy`, `log`, `status`, `scale`, … */
  readonly subresource?: string;
  readonly namespace?: string;
  readonly name?: string;
  /** Set instead of resource fields for non-resource URLs (`/healthz`, `/version`, `/apis`). */
  readonly nonResourcePath?: string;
};

/** `Command.attributes` for `protocol: 'http', kind: 'request'`. */
export type HttpRequestAttributes = {
  /** Upper-case method. */
  readonly method: string;
  /** The request path as received (the engine normalises it for matching). */
  readonly path: string;
  /** Names of the request headers, lower-cased. */
  readonly headers: readonly string[];
};

export type PostgresQueryCommand = Command & {
  readonly protocol: 'postgres';
  readonly kind: 'query';
  readonly attributes: PostgresQueryAttributes;
};
export type SshCommand = Command & {
  readonly protocol: 'ssh';
  readonly kind: 'exec' | 'shell-line' | 'channel' | 'sftp';
  readonly attributes: SshCommandAttributes;
};
export type KubernetesRequestCommand = Command & {
  readonly protocol: 'kubernetes';
  readonly kind: 'request';
  readonly attributes: KubernetesRequestAttributes;
};
export type HttpRequestCommand = Command & {
  readonly protocol: 'http';
  readonly kind: 'request';
  readonly attributes: HttpRequestAttributes;
};

/** Builds a SqlStatementFacts with the list fields defaulted, for producers and tests. */
export function sqlStatement(
  kind: string,
  facts: Partial<Omit<SqlStatementFacts, 'kind'>> = {},
): SqlStatementFacts {
  return { tables: [], functions: [], modifiesData: false, ...facts, kind };
}

export function postgresQuery(text: string, statements: readonly SqlStatementFacts[]): PostgresQueryCommand {
  return { protocol: 'postgres', kind: 'query', text, attributes: { statements } };
}

export function sshCommand(
  kind: SshCommand['kind'],
  text: string,
  attributes: SshCommandAttributes,
): SshCommand {
  return { protocol: 'ssh', kind, text, attributes };
}

export function kubernetesRequest(
  text: string,
  attributes: KubernetesRequestAttributes,
): KubernetesRequestCommand {
  return { protocol: 'kubernetes', kind: 'request', text, attributes };
}

export function httpRequest(text: string, attributes: HttpRequestAttributes): HttpRequestCommand {
  return { protocol: 'http', kind: 'request', text, attributes };
}
