import { tool } from '@openai/agents';
import pg from 'pg';
import { z } from 'zod';
import type { PostgresEndpoint } from '../settings.js';
import type { TokenProvider } from '../token-provider.js';
import { clip, errorText, refusalKind } from '../tool-output.js';

const MAX_ROWS = 100;

/**
 * `sql_query`: node-postgres pointed at the gateway's PostgreSQL listener. The password is the
 * Gatehouse token, asked for each time the pool opens a connection, so new connections always
 * log in with a fresh one. TLS is required and the gateway's certificate verified: the token must
 * not cross the network in the clear.
 */
export function sqlQueryTool(endpoint: PostgresEndpoint, tokens: TokenProvider, caPem: string | undefined) {
  const pool = new pg.Pool({
    host: endpoint.host,
    port: endpoint.port,
    user: endpoint.user,
    database: endpoint.database,
    password: () => tokens.token(),
    ssl: caPem === undefined ? true : { ca: caPem },
    application_name: 'gatehouse-openai-agents-example',
    max: 2,
    idleTimeoutMillis: 30_000,
  });
  // The gateway may close an idle connection (shutdown, token policy): the next query reconnects.
  pool.on('error', () => {});

  const sqlQuery = tool({
    name: 'sql_query',
    description:
      `Run SQL against the ${endpoint.database} PostgreSQL database through the Gatehouse gateway. ` +
      'Results may have personal data masked. Gatehouse may refuse a statement, or hold it until a human approves it.',
    parameters: z.object({ sql: z.string().describe('One or more SQL statements') }),
    execute: async ({ sql }) => {
      try {
        const result = await query(pool, sql);
        return clip((Array.isArray(result) ? result : [result]).map(formatResult).join('\n\n'));
      } catch (err) {
        return formatError(err);
      }
    },
  });
  return { tool: sqlQuery, close: () => pool.end() };
}

/**
 * Like `pool.query`, except that a statement the server (or Gatehouse) refused with an ERROR keeps
 * the connection: it is still good, and the agent's statements stay in one gateway session.
 * `pool.query` would discard the connection on any error.
 */
async function query(pool: pg.Pool, sql: string): Promise<pg.QueryResult | pg.QueryResult[]> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    return (await client.query(sql)) as pg.QueryResult | pg.QueryResult[];
  } catch (err) {
    if ((err as Partial<pg.DatabaseError>).severity !== 'ERROR') broken = err as Error;
    throw err;
  } finally {
    client.release(broken);
  }
}

function formatResult(result: pg.QueryResult): string {
  const tag = result.rowCount === null ? result.command : `${result.command} ${result.rowCount}`;
  if (result.fields.length === 0) return tag;
  const rows = result.rows.slice(0, MAX_ROWS).map((row) => JSON.stringify(row));
  const more =
    result.rows.length > MAX_ROWS ? [`… ${result.rows.length - MAX_ROWS} more rows not shown`] : [];
  return [tag, ...rows, ...more].join('\n');
}

function formatError(err: unknown): string {
  const e = err as Partial<pg.DatabaseError>;
  const message = errorText(err);
  if (typeof e.code !== 'string' || !/^[0-9A-Z]{5}$/.test(e.code)) {
    return `The query could not be sent through Gatehouse: ${message}`;
  }
  const extra = [e.detail, e.hint].filter((v): v is string => typeof v === 'string' && v !== '');
  const kind = refusalKind(message);
  const head =
    kind === undefined
      ? `The database returned an error (SQLSTATE ${e.code}):`
      : `The statement was not run: ${kind} (SQLSTATE ${e.code}):`;
  return [`${head} ${message}`, ...extra].join('\n');
}
