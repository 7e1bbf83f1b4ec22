/**
 * Shared pieces of the fault tests: a `gatehouse start` process in front of a real PostgreSQL
 * cluster, configured from YAML like an operator would, and small waiting helpers.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { expect } from 'vitest';
import { APP_DATABASE, APP_PASSWORD, APP_USER, type PgCluster } from '../fixtures/postgres.js';
import { type CliProcess, freePort, runCli, startCli } from '../support/cli.js';

export interface CliPgGateway {
  readonly file: string;
  readonly pgPort: number;
  readonly adminPort: number;
  readonly process: CliProcess;
}

/** Writes a YAML config for one PostgreSQL connection (plaintext clients allowed) and an admin API. */
export async function writePgConfig(
  dir: string,
  cluster: PgCluster,
  opts: { dataDir?: string; extra?: string; pgPort?: number; adminPort?: number } = {},
): Promise<{ file: string; pgPort: number; adminPort: number }> {
  const pgPort = opts.pgPort ?? (await freePort());
  const adminPort = opts.adminPort ?? (await freePort());
  const file = join(dir, 'gatehouse.yaml');
  writeFileSync(
    file,
    `dataDir: ${opts.dataDir ?? './data'}
identity:
  devIssuer: { enabled: true }
admin:
  listen: 127.0.0.1:${adminPort}
  adminGroups: [admins]
shutdown:
  drainTimeout: 1s
${opts.extra ?? ''}
connections:
  - name: shop
    protocol: postgres
    listen: 127.0.0.1:${pgPort}
    upstream:
      host: 127.0.0.1
      port: ${cluster.port}
      database: ${APP_DATABASE}
      user: ${APP_USER}
      password: "\${env:GATEHOUSE_FAULTS_PG_PASSWORD}"
    options: { allowPlaintext: true }
`,
  );
  return { file, pgPort, adminPort };
}

export const CLI_ENV = { GATEHOUSE_FAULTS_PG_PASSWORD: APP_PASSWORD };

export async function startPgCli(file: string): Promise<CliProcess> {
  const gateway = startCli(['start', '--config', file], { env: CLI_ENV });
  await gateway.waitFor(/gatehouse started/, 30_000);
  return gateway;
}

export async function issueToken(file: string, sub = 'agent-1', groups = 'agents'): Promise<string> {
  const issued = await runCli(['token', 'issue', '--sub', sub, '--groups', groups, '--config', file], {
    env: CLI_ENV,
  });
  expect(issued.code, issued.stderr).toBe(0);
  return issued.stdout.trim();
}

export function pgClient(port: number, password: string): pg.Client {
  const c = new pg.Client({ host: '127.0.0.1', port, user: APP_USER, database: APP_DATABASE, password });
  c.on('error', () => undefined);
  return c;
}

export async function pgError(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected the promise to reject');
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitUntil<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface ListedSession {
  id: string;
  subject?: string;
  connection: string;
  commands: number;
  endReason?: string;
}

export async function listSessions(file: string): Promise<ListedSession[]> {
  const list = await runCli(['sessions', 'list', '--config', file, '--json'], { env: CLI_ENV });
  expect(list.code, list.stderr).toBe(0);
  return JSON.parse(list.stdout) as ListedSession[];
}
