/**
 * Terminal recordings end to end: a real gateway `Session` records a terminal conversation into a
 * real SQLite session log, and the real `gatehouse` CLI plays it back (`replay`) and exports it
 * (`export`) — and, when asciinema is installed, asciinema itself reads the export.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventType, type Identity, silentLogger, systemClock } from '@gatehouse/core';
import { GatewayMetrics, Session } from '@gatehouse/gateway';
import { openSessionLog, parseAsciicast } from '@gatehouse/session-log';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './support/cli.js';

const identity: Identity = { subject: 'agent-1', groups: ['agents'], issuer: 'test' };
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the client's terminal showed, byte for byte, as the CLI must play it back. */
const SHOWN = '$ echo 5€\r\n5€\r\n$ exit\r\n';

let db: string;
let dir: string;

beforeAll(async () => {
  dir = tempDir('gatehouse-replay-');
  db = join(dir, 'log.db');
  const log = openSessionLog({ path: db });
  const session = new Session({
    info: {
      id: 'term-1',
      connection: 'web-ssh',
      protocol: 'ssh',
      clientAddress: '127.0.0.1:40000',
      startedAt: new Date(),
    },
    connection: {
      name: 'web-ssh',
      protocol: 'ssh',
      listen: { host: '127.0.0.1', port: 0 },
      upstream: {},
      options: {},
    },
    access: undefined,
    verifier: { verify: async () => identity },
    policy: {
      decide: () => ({ action: 'allow' }),
      masker: () => ({ maskValue: (_c, t) => t, maskText: (t) => t }),
    },
    log,
    approvals: { request: async () => ({ status: 'expired', id: 'x' }) },
    clock: systemClock,
    logger: silentLogger,
    metrics: new GatewayMetrics(),
    secrets: [],
  });
  await session.start();
  await session.authenticate('token', { method: 'password', user: 'deploy' });
  const euro = Buffer.from('€');
  session.output('resize', '100x30');
  session.output('stdout', '$ ');
  await pause(300);
  session.output('stdin', 'echo 5€\r');
  session.output('stdout', Buffer.concat([Buffer.from('echo 5€\r\n5'), euro.subarray(0, 1)]));
  // Longer than the output batching: the rest of the euro sign lands in the next event.
  await pause(120);
  session.output('stdout', Buffer.concat([euro.subarray(1), Buffer.from('\r\n$ ')]));
  await pause(300);
  session.output('stdin', 'exit\r');
  session.output('stdout', 'exit\r\n');
  await session.end('client-closed');
  await log.append({
    sessionId: 'pg-1',
    type: EventType.SessionStart,
    data: { connection: 'orders', protocol: 'postgres', clientAddress: '127.0.0.1:40001' },
  });
  await log.close();
});

describe('gatehouse replay / export', () => {
  it('replays exactly what the terminal showed', async () => {
    const res = await runCli(['replay', 'term-1', '--db', db, '--no-timing']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toBe(SHOWN);
    const withInput = await runCli(['replay', 'term-1', '--db', db, '--no-timing', '--input']);
    expect(withInput.stdout).toBe('$ echo 5€\recho 5€\r\n5€\r\n$ exit\rexit\r\n');
  });

  it('replays with the recorded pauses', async () => {
    const started = performance.now();
    const res = await runCli(['replay', 'term-1', '--db', db]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toBe(SHOWN);
    expect(performance.now() - started).toBeGreaterThanOrEqual(650);
  });

  it('exits 4 for an unknown session and 1 for a session without a terminal recording', async () => {
    const missing = await runCli(['replay', 'nope', '--db', db, '--no-timing']);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('no session nope');
    const quiet = await runCli(['replay', 'pg-1', '--db', db, '--no-timing']);
    expect(quiet.code).toBe(1);
    expect(quiet.stderr).toContain('session pg-1 has no terminal recording');
  });

  it('exports an asciicast v2 recording and the event list', async () => {
    const res = await runCli(['export', 'term-1', '--db', db]);
    expect(res.code, res.stderr).toBe(0);
    const cast = parseAsciicast(res.stdout);
    expect(cast.header).toMatchObject({
      version: 2,
      width: 100,
      height: 30,
      title: 'agent-1@web-ssh term-1',
    });
    expect(cast.events.map(([, , data]) => data).join('')).toBe(SHOWN);
    const times = cast.events.map(([time]) => time);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect((times.at(-1) ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(0.65);

    const file = join(dir, 'events.jsonl');
    const json = await runCli(['export', 'term-1', '--db', db, '--format', 'json', '--output', file]);
    expect(json.code, json.stderr).toBe(0);
    const types = readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .map((line) => (JSON.parse(line) as { type: string }).type);
    expect(types[0]).toBe('session.start');
    expect(types.at(-1)).toBe('session.end');
    expect(types.filter((t) => t === 'output').length).toBeGreaterThanOrEqual(4);
  });

  // asciinema (installed by .ci/run) reads the export. `asciinema cat` insists on a terminal,
  // which script(1) provides; it puts that terminal in raw mode, so bytes pass unchanged.
  it('is read by asciinema itself', async () => {
    const file = join(dir, 'term-1.cast');
    expect((await runCli(['export', 'term-1', '--db', db, '--output', file])).code).toBe(0);
    const cat = spawnSync('script', ['-qec', `asciinema cat '${file}'`, '/dev/null'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(cat.status, cat.stderr).toBe(0);
    expect(cat.stdout).toBe(SHOWN);
  });
});
