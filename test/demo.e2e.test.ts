/**
 * `gatehouse demo` end to end, as the README's tour uses it: the real CLI starts the sample API and
 * a throwaway PostgreSQL cluster behind the gateway, real `curl` and `psql` (sslmode=require, the
 * token as the password) go through it, the OpenAI Agents SDK example runs its demo script against
 * it, and Ctrl-C stops everything, the cluster included.
 */
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { pendingApproval, startAgent } from './support/agent-process.js';
import {
  type CliProcess,
  freePort,
  tempDir as makeTempDir,
  REPO,
  run,
  runCli,
  startCli,
} from './support/cli.js';

const dirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = makeTempDir(prefix);
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const asRoot = process.getuid?.() === 0;

let demo: CliProcess | undefined;
afterEach(async () => {
  if (demo !== undefined && demo.child.exitCode === null && demo.child.signalCode === null) {
    demo.child.kill('SIGINT');
    await demo.exited();
  }
  demo = undefined;
});

async function startDemo(dataDir: string) {
  const ports = { http: await freePort(), admin: await freePort(), pg: await freePort() };
  demo = startCli([
    'demo',
    '--data-dir',
    dataDir,
    '--http-port',
    String(ports.http),
    '--admin-port',
    String(ports.admin),
    '--pg-port',
    String(ports.pg),
  ]);
  await demo.waitFor(/Press Ctrl-C to stop\./, 60_000);
  const token = demo.output().match(/export AGENT_TOKEN=(\S+)/)?.[1];
  expect(token).toBeDefined();
  return { ports, token: token ?? '', cli: demo };
}

function psql(port: number, token: string, sql: string) {
  return run('psql', [
    '-X',
    `host=127.0.0.1 port=${port} dbname=demo user=agent sslmode=require password=${token}`,
    '-c',
    sql,
  ]);
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('gatehouse demo with PostgreSQL', () => {
  it('serves masked rows over psql, refuses a DROP, keeps the HTTP API, runs the agent example, and stops the cluster on Ctrl-C', async () => {
    const parent = tempDir('gatehouse-demo-');
    // The cluster runs as the `postgres` user when the tests run as root: it must pass through.
    chmodSync(parent, 0o711);
    const dataDir = join(parent, 'demo');
    const { ports, token, cli } = await startDemo(dataDir);

    const printed = cli.output();
    expect(printed).toContain(
      `psql "host=127.0.0.1 port=${ports.pg} dbname=demo user=agent sslmode=require password=$AGENT_TOKEN" -c "SELECT * FROM customers"`,
    );
    expect(printed).toContain('-c "DELETE FROM orders"');
    expect(printed).not.toContain('PostgreSQL skipped');

    const clusterPort = Number(
      readFileSync(join(dataDir, 'gatehouse.demo.yaml'), 'utf8').match(
        /name: demo-db[\s\S]*?upstream:\s+host: 127\.0\.0\.1\s+port: (\d+)/,
      )?.[1],
    );
    expect(clusterPort).toBeGreaterThan(0);
    expect(await portOpen(clusterPort)).toBe(true);
    const passwordFile = join(dataDir, 'postgres-agent.password');
    expect(readFileSync(passwordFile, 'utf8').trim()).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(readdirSync(dataDir)).toContain('postgres-cluster');

    const select = await psql(ports.pg, token, 'SELECT * FROM customers ORDER BY id');
    expect(select.stderr).toBe('');
    expect(select.code).toBe(0);
    expect(select.stdout).toContain('Ada Lovelace');
    expect(select.stdout).toContain('***@******e.com');
    expect(select.stdout).not.toContain('ada@example.com');
    expect(select.stdout).not.toContain('078-05-1120');

    const drop = await psql(ports.pg, token, 'DROP TABLE customers');
    expect(drop.code).not.toBe(0);
    expect(drop.stderr).toContain(
      'Dropping or truncating tables is not allowed through the gateway. (rule no-drops)',
    );
    const still = await psql(ports.pg, token, 'SELECT count(*) FROM customers');
    expect(still.code).toBe(0);
    expect(still.stdout).toMatch(/\b3\b/);

    // Without the token's TLS the gateway refuses before asking for the token.
    const plain = await run('psql', [
      '-X',
      `host=127.0.0.1 port=${ports.pg} dbname=demo user=agent sslmode=disable password=${token}`,
      '-c',
      'SELECT 1',
    ]);
    expect(plain.code).not.toBe(0);

    const curl = await run('curl', [
      '-s',
      '-H',
      `Authorization: Bearer ${token}`,
      `http://127.0.0.1:${ports.http}/customers`,
    ]);
    expect(curl.code).toBe(0);
    expect(curl.stdout).toContain('Ada Lovelace');
    expect(curl.stdout).not.toContain('ada@example.com');

    // The tour's agent step: the example's demo script, its DELETE denied by the approver.
    const caFile = join(dataDir, 'postgres-ca.pem');
    const x509 = await run('openssl', [
      'x509',
      '-in',
      join(dataDir, 'postgres/self-signed.pem'),
      '-out',
      caFile,
    ]);
    expect(x509.code, x509.stderr).toBe(0);
    expect(readFileSync(caFile, 'utf8')).not.toContain('PRIVATE KEY');
    const script = JSON.parse(readFileSync(join(REPO, 'examples/openai-agents/scripts/demo.json'), 'utf8'));
    const agent = startAgent(dataDir, 'tour', script.steps, {
      GATEHOUSE_TOKEN: token,
      GATEHOUSE_CA_FILE: caFile,
      GATEHOUSE_PG_URL: `postgres://agent@127.0.0.1:${ports.pg}/demo`,
    });
    const approver = cli.output().match(/export GATEHOUSE_TOKEN=(\S+)/)?.[1] ?? '';
    const adminUrl = `http://127.0.0.1:${ports.admin}`;
    const held = await pendingApproval(adminUrl, approver, 'DELETE FROM orders', agent);
    const denied = await runCli(
      ['approvals', 'deny', held.id, '--reason', 'not today', '--server', adminUrl],
      {
        env: { GATEHOUSE_TOKEN: approver },
      },
    );
    expect(denied.code, denied.stderr).toBe(0);
    const { code, transcript } = await agent.done();
    expect(code, agent.stderr()).toBe(0);
    const [rows, drop2, del] = transcript.toolCalls.map((c) => c.output);
    expect(rows).toContain('"name":"Ada Lovelace","email":"***@******e.com"');
    expect(drop2).toContain(
      'Dropping or truncating tables is not allowed through the gateway. (rule no-drops)',
    );
    expect(del).toBe(
      `The statement was not run: an approver denied this command (SQLSTATE 42501): request ${held.id} was denied by alice: not today`,
    );

    cli.child.kill('SIGINT');
    expect(await cli.exited()).toBe(0);
    expect(await portOpen(clusterPort)).toBe(false);
    expect(await portOpen(ports.pg)).toBe(false);
    expect(existsSync(join(dataDir, 'postgres-cluster'))).toBe(false);
    expect(existsSync(passwordFile)).toBe(false);
  }, 180_000);

  it('stops the half-started cluster when Ctrl-C comes during startup', async () => {
    const parent = tempDir('gatehouse-demo-');
    chmodSync(parent, 0o711);
    const dataDir = join(parent, 'demo');
    demo = startCli(['demo', '--data-dir', dataDir, '--http-port', String(await freePort())]);
    await demo.waitFor(/starting a throwaway PostgreSQL/, 30_000);
    demo.child.kill('SIGINT');
    expect(await demo.exited()).toBe(0);
    expect(demo.output()).not.toContain('Press Ctrl-C to stop.');
    expect(existsSync(join(dataDir, 'postgres-cluster'))).toBe(false);
    const servers = await run('ps', ['-eo', 'args']);
    expect(servers.stdout).not.toContain(dataDir);
  }, 60_000);

  it.skipIf(!asRoot)(
    'runs HTTP-only, saying why, when the postgres user cannot reach the data directory',
    async () => {
      const parent = tempDir('gatehouse-demo-'); // 0700 root: shut to the postgres user
      const dataDir = join(parent, 'demo');
      const { ports, token, cli } = await startDemo(dataDir);
      expect(cli.output()).toMatch(/PostgreSQL skipped: the "postgres" OS user cannot reach .*--data-dir/);
      expect(cli.output()).not.toContain('psql "host=');
      const curl = await run('curl', [
        '-s',
        '-H',
        `Authorization: Bearer ${token}`,
        `http://127.0.0.1:${ports.http}/customers`,
      ]);
      expect(curl.stdout).toContain('Grace Hopper');
      cli.child.kill('SIGINT');
      expect(await cli.exited()).toBe(0);
      expect(existsSync(join(dataDir, 'postgres-cluster'))).toBe(false);
    },
    60_000,
  );
});
