/**
 * The foundation end to end, as an operator and an agent use it: the real `gatehouse` CLI starts a
 * gateway from a YAML file, a real HTTP client (curl) goes through it with a development token, and
 * the reading commands list, show and verify what the log recorded — including after tampering and
 * after a crash.
 */
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliProcess, freePort, run, runCli, startCli, tempDir } from './support/cli.js';

let upstream: Server;
let upstreamPort: number;
const seenAuthorization: (string | undefined)[] = [];

beforeAll(async () => {
  upstream = createServer((req, res) => {
    seenAuthorization.push(req.headers.authorization);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ path: req.url, email: 'someone@example.com' }));
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const address = upstream.address();
  upstreamPort = typeof address === 'object' && address !== null ? address.port : 0;
});
afterAll(async () => {
  await new Promise<void>((r) => upstream.close(() => r()));
});

async function writeConfig(dir: string): Promise<{ file: string; httpPort: number; adminPort: number }> {
  const httpPort = await freePort();
  const adminPort = await freePort();
  const file = join(dir, 'gatehouse.yaml');
  writeFileSync(
    file,
    `dataDir: ./data
identity:
  devIssuer: { enabled: true }
admin:
  listen: 127.0.0.1:${adminPort}
  adminGroups: [admins]
shutdown:
  drainTimeout: 1s
policies:
  guard:
    rules:
      - id: no-delete
        action: deny
        message: deletes are not allowed
        http: { methods: [DELETE] }
connections:
  - name: api
    protocol: http
    listen: 127.0.0.1:${httpPort}
    access: { groups: [agents] }
    upstream: { url: "http://127.0.0.1:${upstreamPort}" }
    policy: { use: [guard] }
`,
  );
  return { file, httpPort, adminPort };
}

async function token(config: string, sub: string, groups: string): Promise<string> {
  const issued = await runCli(['token', 'issue', '--sub', sub, '--groups', groups, '--config', config]);
  expect(issued.code, issued.stderr).toBe(0);
  const lines = issued.stdout.split('\n').filter(Boolean);
  expect(lines).toHaveLength(1);
  return lines[0] as string;
}

async function stop(gateway: CliProcess): Promise<number | null> {
  gateway.child.kill('SIGTERM');
  return gateway.exited();
}

describe('gatehouse start / token / sessions / verify', () => {
  it('serves a session end to end and records it in a log that verifies', async () => {
    const dir = tempDir();
    const { file, httpPort, adminPort } = await writeConfig(dir);
    const gateway = startCli(['start', '--config', file]);
    await gateway.waitFor(/gatehouse started/);
    try {
      const agent = await token(file, 'agent-1', 'agents,dev');
      const got = await run('curl', [
        '-sS',
        '-H',
        `Authorization: Bearer ${agent}`,
        `http://127.0.0.1:${httpPort}/orders/7`,
      ]);
      expect(got.code, got.stderr).toBe(0);
      expect(JSON.parse(got.stdout)).toEqual({ path: '/orders/7', email: '****' });
      expect(seenAuthorization.at(-1)).toBeUndefined();

      const denied = await run('curl', [
        '-sS',
        '-X',
        'DELETE',
        '-H',
        `Authorization: Bearer ${agent}`,
        `http://127.0.0.1:${httpPort}/orders/7`,
      ]);
      expect(JSON.parse(denied.stdout)).toEqual({
        error: { code: 'policy_denied', message: 'deletes are not allowed (rule no-delete)' },
      });

      const bad = await run('curl', [
        '-sS',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        '-H',
        'Authorization: Bearer nope',
        `http://127.0.0.1:${httpPort}/`,
      ]);
      expect(bad.stdout).toBe('401');

      // The admin API: healthz and metrics open, the rest behind an admin token.
      const admin = `http://127.0.0.1:${adminPort}`;
      expect((await fetch(`${admin}/healthz`)).status).toBe(200);
      const metrics = await (await fetch(`${admin}/metrics`)).text();
      expect(metrics).toMatch(
        /gatehouse_commands_total\{connection="api",protocol="http",decision="deny"\} 1/,
      );
      expect(metrics).toMatch(/gatehouse_log_commit_seconds_bucket/);
      expect((await fetch(`${admin}/api/sessions`)).status).toBe(401);
      const forbidden = await fetch(`${admin}/api/sessions`, {
        headers: { authorization: `Bearer ${agent}` },
      });
      expect(forbidden.status).toBe(403);
      expect(await forbidden.json()).toEqual({
        error: { code: 'forbidden', message: 'identity "agent-1" is not in an admin group' },
      });
      const adminToken = await token(file, 'root', 'admins');
      const listed = (await (
        await fetch(`${admin}/api/sessions?user=agent-1`, {
          headers: { authorization: `Bearer ${adminToken}` },
        })
      ).json()) as { sessions: { id: string }[] };
      expect(listed.sessions.length).toBeGreaterThanOrEqual(2);
      const events = (await (
        await fetch(`${admin}/api/sessions/${listed.sessions[0]?.id}/events`, {
          headers: { authorization: `Bearer ${adminToken}` },
        })
      ).json()) as { events: { type: string }[] };
      expect(events.events.map((e) => e.type)).toContain('command');
      expect(
        (await fetch(`${admin}/api/sessions/nope`, { headers: { authorization: `Bearer ${adminToken}` } }))
          .status,
      ).toBe(404);

      expect(await stop(gateway)).toBe(0);

      const list = await runCli(['sessions', 'list', '--config', file, '--json']);
      expect(list.code, list.stderr).toBe(0);
      const sessions = JSON.parse(list.stdout) as {
        id: string;
        subject?: string;
        commands: number;
        denied: number;
        endReason?: string;
      }[];
      expect(sessions.some((s) => s.subject === 'agent-1' && s.denied === 1)).toBe(true);
      expect(sessions.every((s) => s.endReason !== undefined)).toBe(true);

      const table = await runCli(['sessions', 'list', '--config', file, '--user', 'agent-1']);
      expect(table.stdout).toMatch(/^SESSION\s+STARTED\s+CONNECTION/);
      expect(table.stdout).toContain('agent-1');

      const deniedSession = sessions.find((s) => s.denied === 1);
      const show = await runCli(['sessions', 'show', deniedSession?.id ?? '', '--config', file]);
      expect(show.code, show.stderr).toBe(0);
      expect(show.stdout).toMatch(/command\s+DELETE \/orders\/7/);
      expect(show.stdout).toMatch(/decision\s+deny by no-delete: deletes are not allowed/);

      const missing = await runCli(['sessions', 'show', 'no-such-session', '--config', file]);
      expect(missing.code).toBe(4);

      const verified = await runCli(['verify', '--config', file]);
      expect(verified.code, verified.stdout + verified.stderr).toBe(0);
      expect(verified.stdout).toMatch(/^OK /);

      // Nothing secret in the log file: the tokens never reach it.
      const db = new Database(join(dir, 'data/sessions.db'), { readonly: true });
      const all = JSON.stringify(db.prepare('SELECT data FROM events').all());
      db.close();
      expect(all).not.toContain(agent);
      expect(all).not.toContain(adminToken);
    } finally {
      if (gateway.child.exitCode === null) gateway.child.kill('SIGKILL');
    }
  });

  it('verify reports the first bad sequence number after the file is edited behind its back', async () => {
    const dir = tempDir();
    const { file, httpPort } = await writeConfig(dir);
    const gateway = startCli(['start', '--config', file]);
    await gateway.waitFor(/gatehouse started/);
    const agent = await token(file, 'agent-1', 'agents');
    for (let i = 0; i < 3; i++) {
      await run('curl', [
        '-sS',
        '-H',
        `Authorization: Bearer ${agent}`,
        `http://127.0.0.1:${httpPort}/x${i}`,
      ]);
    }
    expect(await stop(gateway)).toBe(0);

    const dbFile = join(dir, 'data/sessions.db');
    const db = new Database(dbFile);
    const triggers = db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").all() as {
      name: string;
    }[];
    for (const t of triggers) db.exec(`DROP TRIGGER "${t.name}"`);
    const target = db.prepare("SELECT seq FROM events WHERE type = 'command' ORDER BY seq LIMIT 1").get() as {
      seq: number;
    };
    db.prepare("UPDATE events SET data = replace(data, '/x0', '/harmless') WHERE seq = ?").run(target.seq);
    db.close();

    const verified = await runCli(['verify', '--db', dbFile]);
    expect(verified.code).toBe(3);
    expect(verified.stdout).toContain(`first bad sequence number ${target.seq}`);
    const json = await runCli(['verify', '--db', dbFile, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, firstBadSeq: target.seq });
  });

  it('verify --head gives a head to keep elsewhere, and a rollback to an older copy fails against it', async () => {
    const dir = tempDir();
    const { file, httpPort } = await writeConfig(dir);
    const dataDir = join(dir, 'data');
    const traffic = async (n: number) => {
      const gateway = startCli(['start', '--config', file]);
      await gateway.waitFor(/gatehouse started/);
      const agent = await token(file, 'agent-1', 'agents');
      for (let i = 0; i < n; i++)
        await run('curl', [
          '-sS',
          '-H',
          `Authorization: Bearer ${agent}`,
          `http://127.0.0.1:${httpPort}/y${i}`,
        ]);
      expect(await stop(gateway)).toBe(0);
    };
    await traffic(2);
    const early = await runCli(['verify', '--config', file, '--head']);
    expect(early.code, early.stderr).toBe(0);
    expect(early.stdout.trim()).toMatch(/^\d+:[0-9a-f]{64}$/);
    const saved = join(dir, 'saved');
    mkdirSync(saved);
    const logFiles = () => readdirSync(dataDir).filter((f) => f.startsWith('sessions.db'));
    for (const f of logFiles()) copyFileSync(join(dataDir, f), join(saved, f));

    await traffic(2);
    const later = (await runCli(['verify', '--config', file, '--head'])).stdout.trim();
    expect(later).not.toBe(early.stdout.trim());
    const heads = join(dir, 'heads.txt');
    writeFileSync(heads, `# shipped off the machine\n${early.stdout.trim()}\n${later}\n`);
    const both = await runCli(['verify', '--config', file, '--checkpoints', heads]);
    expect(both.code, both.stdout).toBe(0);
    expect(both.stdout).toContain('2 recorded checkpoint(s) found in the chain');

    // Roll the log back to the saved copy, anchor included: the anchor alone cannot tell.
    for (const f of logFiles()) rmSync(join(dataDir, f));
    for (const f of readdirSync(saved)) copyFileSync(join(saved, f), join(dataDir, f));
    expect((await runCli(['verify', '--config', file])).code).toBe(0);
    const rolledBack = await runCli(['verify', '--config', file, '--checkpoints', heads]);
    expect(rolledBack.code).toBe(3);
    expect(rolledBack.stdout).toMatch(/names an event the log no longer has/);
    const malformed = await runCli(['verify', '--config', file, '--checkpoint', 'not-a-head']);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/expected SEQ:HASH/);
  });

  it('after a crash, sessions left open end with gateway-restart and the log still verifies', async () => {
    const dir = tempDir();
    const { file, httpPort } = await writeConfig(dir);
    const first = startCli(['start', '--config', file]);
    await first.waitFor(/gatehouse started/);
    const agent = await token(file, 'agent-1', 'agents');
    // A keep-alive client holds its session open while the gateway is killed.
    const { Agent, request } = await import('node:http');
    const keepAlive = new Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: httpPort,
          path: '/held',
          agent: keepAlive,
          headers: { authorization: `Bearer ${agent}` },
        },
        (res) => {
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.end();
    });
    first.child.kill('SIGKILL');
    await first.exited();
    keepAlive.destroy();

    const open = JSON.parse((await runCli(['sessions', 'list', '--config', file, '--json'])).stdout) as {
      endReason?: string;
    }[];
    expect(open.some((s) => s.endReason === undefined)).toBe(true);

    const second = startCli(['start', '--config', file]);
    await second.waitFor(/gatehouse started/);
    expect(await stop(second)).toBe(0);
    const after = JSON.parse((await runCli(['sessions', 'list', '--config', file, '--json'])).stdout) as {
      endReason?: string;
    }[];
    expect(after.some((s) => s.endReason === 'gateway-restart')).toBe(true);
    expect(after.every((s) => s.endReason !== undefined)).toBe(true);
    const verified = await runCli(['verify', '--config', file]);
    expect(verified.code, verified.stdout).toBe(0);
  });
});

describe('gatehouse start with an invalid configuration', () => {
  const base = (extra: string) =>
    `identity:\n  devIssuer: { enabled: true }\nadmin: { enabled: false }\n${extra}`;
  const cases: [string, string, RegExp][] = [
    [
      'unknown protocol',
      base(
        'connections:\n  - name: db\n    protocol: mysql\n    listen: 15432\n    upstream: { host: x, port: 1 }\n',
      ),
      /connections\[0\]\.protocol: .*mysql.*postgres/,
    ],
    [
      'duplicate port',
      base(
        'connections:\n  - name: a\n    protocol: http\n    listen: 127.0.0.1:18999\n    upstream: { url: "http://127.0.0.1:1" }\n  - name: b\n    protocol: http\n    listen: 127.0.0.1:18999\n    upstream: { url: "http://127.0.0.1:2" }\n',
      ),
      /connections\[1\]\.listen: .*18999.*connections\[0\]\.listen/,
    ],
    [
      'missing upstream',
      base('connections:\n  - name: a\n    protocol: http\n    listen: 18998\n'),
      /connections\[0\].*upstream/,
    ],
    [
      'bad duration',
      base('shutdown:\n  drainTimeout: 5 minutes\n'),
      /shutdown\.drainTimeout: bad duration "5 minutes"/,
    ],
    [
      'unknown key',
      base('sessionLog:\n  pth: x.db\n'),
      /sessionLog\.pth: unknown key "pth" \(did you mean "path"\?\)/,
    ],
  ];
  it.each(cases)('%s → exit 2 naming the file and the key path', async (_name, yaml, message) => {
    const dir = tempDir();
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, yaml);
    const result = await runCli(['start', '--config', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(file);
    expect(result.stderr).toMatch(message);
  });

  it('a missing secret reference names the variable, never a value', async () => {
    const dir = tempDir();
    const file = join(dir, 'secret.yaml');
    writeFileSync(
      file,
      base(
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal secret reference, for the config loader
        'connections:\n  - name: a\n    protocol: http\n    listen: 18997\n    upstream:\n      url: "http://127.0.0.1:1"\n      headers: { authorization: "${env:GATEHOUSE_TEST_MISSING}" }\n',
      ),
    );
    const result = await runCli(['start', '--config', file], { env: { GATEHOUSE_TEST_MISSING: '' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/GATEHOUSE_TEST_MISSING/);
  });
});
