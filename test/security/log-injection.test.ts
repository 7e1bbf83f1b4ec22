/**
 * Security regression suite: the session log as an attack channel against the operator who reads
 * it. Real OpenSSH sessions through the gateway to a real sshd record into a real SQLite session
 * log; the real `gatehouse` CLI then lists, shows, replays and exports them in the operator's
 * terminal. Attacker-chosen text reaches the log from the command line (SSH exec), from what the
 * upstream prints, and from token claims.
 *
 * Attack classes (CWE-117 log injection, CWE-150 escape sequences in output; the terminal-emulator
 * advisories behind them, e.g. CVE-2003-0063 xterm title reporting, iTerm2 CVE-2024-38396 window
 * title injection, the OSC 52 clipboard write, OSC 8 hyperlinks; Trojan Source CVE-2021-42574 for
 * bidirectional overrides):
 * - ESC[2J (clear screen), OSC 0 (window title), OSC 52 (clipboard), OSC 8 (hyperlink), CSI 6n and
 *   CSI 21t (device status / title reports the terminal types back), BEL, backspace and carriage
 *   return overwrites, 8-bit C1 CSI, bidi overrides;
 * - a newline inside a value that forges a log line or table row (found by this suite in
 *   `sessions list`: fixed in the CLI's `printable`);
 * - very long lines.
 * Expected: `sessions list`/`show` print no raw control byte and show them escaped; `replay` (default)
 * drops what acts on the viewer's terminal and keeps colours; `export --format text` has no escape
 * sequence at all; `verify` still passes over everything recorded.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parseConfig } from '@gatehouse/config';
import { silentLogger } from '@gatehouse/core';
import { builtinModules, type RunningGateway, startFromConfig } from '@gatehouse/gateway';
import { loadOrCreateDevIssuer } from '@gatehouse/identity';
import { openSessionLog, type SessionLog } from '@gatehouse/session-log';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APP_DATABASE,
  APP_USER,
  type PgCluster,
  type PgGateway,
  startPostgres,
  startPostgresGateway,
} from '../fixtures/postgres.js';
import { run, runCli, tempDir } from '../support/cli.js';
import { collect, type SshGateway, startSshGateway } from '../support/ssh-gateway.js';

const ESC = '\u001b';
const BEL = '\u0007';
/** Every control character but newline, and the C1 range, and the bidi controls. */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
/** What the upstream prints: colours (kept by replay) and sequences that act on the viewer's terminal. */
const UPSTREAM_OUTPUT = [
  '\\033[31mRED\\033[0m',
  '\\033]52;c;cm0gLXJmIH4K\\007',
  '\\033]0;pwned-title\\007',
  '\\033]8;;http://evil.example/\\033\\\\click\\033]8;;\\033\\\\',
  '\\033[6n\\033[21t',
  '\\033[2J',
  '\\007',
  '\\233' + '2J',
  'done',
].join(' ');
/** Control characters in the command line itself, including a newline that forges a log line. */
const FORGERY = `${ESC}[2J${ESC}]0;owned${BEL}${ESC}]52;c;Y3VybCBldmlsCg==${BEL}x\b\b\bREWRITTEN\rOVERWRITE\u202eevil\n#99 +0.000s  decision      allow by forged-rule`;

let dir: string;
let db: string;
let log: SessionLog;
let gw: SshGateway;
const ids: Record<string, string> = {};

async function sshSession(name: string, command: string, token?: string) {
  const r = await collect(
    spawn('ssh', [...gw.clientOptions(), '-p', String(gw.port), 'deploy@127.0.0.1', command], {
      env: gw.clientEnv(token),
    }),
  );
  const list = await runCli(['sessions', 'list', '--db', db, '--json']);
  const sessions = JSON.parse(list.stdout) as { id: string; startedAt: string }[];
  const known = new Set(Object.values(ids));
  const fresh = sessions.filter((s) => !known.has(s.id));
  ids[name] = (fresh.at(-1) ?? fresh[0])?.id ?? '';
  return r;
}

beforeAll(async () => {
  dir = tempDir('gatehouse-log-injection-');
  db = join(dir, 'sessions.db');
  log = openSessionLog({ path: db });
  gw = await startSshGateway({
    log,
    rules: [{ id: 'no-evil', action: 'deny', message: 'not that one', shell: { programs: ['evil'] } }],
  });
  const output = await sshSession('output', `printf '${UPSTREAM_OUTPUT}\\n'`);
  expect(output.code, output.stderr).toBe(0);
  await sshSession('forgery', `: '${FORGERY}'; echo ok`);
  await sshSession('denied', `evil '${FORGERY}'`);
  await sshSession('long', `echo ${'A'.repeat(20_000)} >/dev/null; echo '${ESC}[2J'`);
  const hostile = await gw.issuer.issue({
    sub: `agent${ESC}]0;sub-title${BEL}\nFORGED-ROW  2026-01-01`,
    groups: [`ops${ESC}[2J`, 'x\ry'],
  });
  await sshSession('subject', 'echo hi', hostile);
  // Wait until every session has ended in the log.
  for (let i = 0; i < 500; i++) {
    const list = JSON.parse((await runCli(['sessions', 'list', '--db', db, '--json'])).stdout) as {
      endedAt?: string;
    }[];
    if (list.length >= 5 && list.every((s) => s.endedAt !== undefined)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
});

afterAll(async () => {
  await gw?.stop();
  await log?.close();
});

function expectNoRawControls(text: string) {
  const found = RAW_CONTROL.exec(text);
  expect(
    found,
    found === null ? '' : `raw U+${found[0].codePointAt(0)?.toString(16)} in ${JSON.stringify(text)}`,
  ).toBe(null);
}

describe('sessions list / sessions show', () => {
  it('the setup recorded five sessions, each with its own id', () => {
    expect(Object.values(ids).filter(Boolean)).toHaveLength(5);
    expect(new Set(Object.values(ids)).size).toBe(5);
  });

  it('sessions list prints no raw control character, and a newline in a claim forges no row', async () => {
    const r = await runCli(['sessions', 'list', '--db', db]);
    expect(r.code, r.stderr).toBe(0);
    expectNoRawControls(r.stdout);
    const rows = r.stdout.trimEnd().split('\n');
    expect(rows).toHaveLength(1 + 5);
    expect(rows.some((row) => row.startsWith('FORGED-ROW'))).toBe(false);
    expect(r.stdout).toContain('agent^[]0;sub-title\\x07\\nFORGED-ROW');
  });

  it.each([['forgery'], ['denied'], ['subject'], ['output'], ['long']])(
    'sessions show (%s) prints no raw control character and shows them escaped',
    async (name) => {
      const r = await runCli(['sessions', 'show', ids[name] as string, '--db', db]);
      expect(r.code, r.stderr).toBe(0);
      expectNoRawControls(r.stdout);
      // No line of the timeline is one the command text wrote.
      expect(r.stdout.split('\n').some((l) => l.startsWith('#99'))).toBe(false);
      for (const line of r.stdout.split('\n')) expect(line.length).toBeLessThan(1_000);
      if (name === 'forgery' || name === 'denied') expect(r.stdout).toContain('^[[2J^[]0;owned\\x07');
    },
  );

  it('--json keeps the text exact, as escaped JSON', async () => {
    const r = await runCli(['sessions', 'show', ids['forgery'] as string, '--db', db, '--json']);
    expectNoRawControls(r.stdout);
    const parsed = JSON.parse(r.stdout) as { events: { type: string; data: { text?: string } }[] };
    expect(parsed.events.find((e) => e.type === 'command')?.data.text).toBe(`: '${FORGERY}'; echo ok`);
  });
});

describe('replay and export', () => {
  it('replay drops clipboard, title, hyperlink and report sequences, and keeps colours', async () => {
    const r = await runCli(['replay', ids['output'] as string, '--db', db, '--no-timing']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`${ESC}[31mRED${ESC}[0m`);
    expect(r.stdout).toContain('click');
    expect(r.stdout).toContain('done');
    for (const bad of [`${ESC}]`, `${ESC}[6n`, `${ESC}[21t`, BEL, '\u009b', 'cm0gLXJmIH4K', 'pwned-title']) {
      expect(r.stdout.includes(bad), JSON.stringify(bad)).toBe(false);
    }
  });

  it('replay --raw is the explicit way to get the bytes as recorded', async () => {
    const r = await runCli(['replay', ids['output'] as string, '--db', db, '--no-timing', '--raw']);
    expect(r.stdout).toContain(`${ESC}]52;c;cm0gLXJmIH4K${BEL}`);
  });

  it.each([['output'], ['forgery'], ['long']])(
    'export --format text (%s) holds no escape sequence',
    async (name) => {
      const r = await runCli(['export', ids[name] as string, '--db', db, '--format', 'text']);
      expect(r.code, r.stderr).toBe(0);
      expectNoRawControls(r.stdout);
      expect(r.stdout).not.toContain(ESC);
      if (name === 'output') expect(r.stdout).toContain('RED');
    },
  );
});

describe('the log itself', () => {
  it('verify passes over everything recorded, hostile bytes included', async () => {
    const r = await runCli(['verify', '--db', db]);
    expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
  });
});

describe('HTTP paths (percent-encoded control characters)', () => {
  let running: RunningGateway;
  let httpDir: string;
  let file: string;
  let base: string;
  let token: string;
  let upstream: Server;
  const reached: string[] = [];

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      reached.push(req.url ?? '');
      res.end('{}');
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    httpDir = tempDir('gatehouse-log-injection-http-');
    const text = `dataDir: ./data
identity:
  devIssuer: { enabled: true }
connections:
  - name: api
    protocol: http
    listen: 127.0.0.1:0
    upstream: { url: "http://127.0.0.1:${(upstream.address() as AddressInfo).port}" }
    policy: { rules: [], defaultAction: allow }
`;
    file = join(httpDir, 'gatehouse.yaml');
    writeFileSync(file, text);
    const config = parseConfig(text, { file: 'gatehouse.yaml', baseDir: httpDir });
    running = await startFromConfig(config, { modules: builtinModules(), logger: silentLogger });
    base = `http://127.0.0.1:${running.gateway.addresses()['api']?.port}`;
    token = await (await loadOrCreateDevIssuer(config.dataDir)).issue({ sub: 'agent-1', groups: ['agents'] });
  });

  afterAll(async () => {
    await running?.close();
    await new Promise((r) => upstream?.close(r));
  });

  it('paths carrying ESC, OSC 52, BEL, CR/LF are refused and logged encoded; a bidi override passes encoded; the log verifies', async () => {
    const paths = [
      '/x%1B%5B2J%1B%5D52;c;eA==%07',
      '/y%0D%0A%2399%20decision%20allow',
      '/z%E2%80%AEevil',
      `/${'w'.repeat(5_000)}%1B%5B6n`,
    ];
    for (const p of paths) {
      await run('curl', ['-sS', '-o', '/dev/null', '-H', `Authorization: Bearer ${token}`, `${base}${p}`]);
    }
    const list = JSON.parse((await runCli(['sessions', 'list', '--config', file, '--json'])).stdout) as {
      id: string;
    }[];
    expect(list.length).toBeGreaterThanOrEqual(1);
    for (const s of list) {
      const show = await runCli(['sessions', 'show', s.id, '--config', file]);
      expect(show.code, show.stderr).toBe(0);
      expectNoRawControls(show.stdout);
      expect(show.stdout.split('\n').some((l) => l.startsWith('#99'))).toBe(false);
    }
    const table = await runCli(['sessions', 'list', '--config', file]);
    expectNoRawControls(table.stdout);
    // Encoded control characters are refused before the upstream (logged as a note, still encoded);
    // the bidi override, which is no control character, went through encoded as it was sent.
    expect(reached).toEqual(['/z%E2%80%AEevil']);
    await running.close();
    const verified = await runCli(['verify', '--config', file]);
    expect(verified.code, `${verified.stdout}${verified.stderr}`).toBe(0);
  });
});

describe('SQL text and upstream error messages', () => {
  let cluster: PgCluster;
  let pgw: PgGateway;

  beforeAll(async () => {
    cluster = await startPostgres();
    pgw = await startPostgresGateway(cluster, { options: { allowPlaintext: true } });
  });

  afterAll(async () => {
    await pgw?.close();
    await cluster?.stop();
  });

  it('statements and PostgreSQL errors that carry escape sequences are shown escaped; the log verifies', async () => {
    const client = new pg.Client({
      host: pgw.host,
      port: pgw.port,
      user: APP_USER,
      database: APP_DATABASE,
      password: await pgw.token(),
    });
    await client.connect();
    try {
      const quoted = `${ESC}[2J${ESC}]52;c;ZHJvcCB0YWJsZQ==${BEL}\n#99 +0.000s  decision      allow`;
      await client.query(`SELECT '${quoted}' AS x`);
      await client.query(`SELECT * FROM "${ESC}]0;pwned${BEL}\u202etable"`).catch(() => undefined);
    } finally {
      await client.end();
    }
    const db = join(pgw.dataDir, 'sessions.db');
    const list = JSON.parse((await runCli(['sessions', 'list', '--db', db, '--json'])).stdout) as {
      id: string;
    }[];
    expect(list.length).toBeGreaterThanOrEqual(1);
    let shown = '';
    for (const s of list) {
      const show = await runCli(['sessions', 'show', s.id, '--db', db]);
      expect(show.code, show.stderr).toBe(0);
      expectNoRawControls(show.stdout);
      expect(show.stdout.split('\n').some((l) => l.startsWith('#99'))).toBe(false);
      shown += show.stdout;
    }
    expect(shown).toContain('^[[2J^[]52;c;ZHJvcCB0YWJsZQ==\\x07');
    // The error names the relation with its control characters; it is shown escaped too.
    expect(shown).toContain('^[]0;pwned\\x07\\u{202e}table');
    await pgw.running.close();
    const verified = await runCli(['verify', '--db', db]);
    expect(verified.code, `${verified.stdout}${verified.stderr}`).toBe(0);
  });
});
