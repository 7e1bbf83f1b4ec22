import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventType } from '@gatehouse/core';
import { openSessionLog, parseAsciicast } from '@gatehouse/session-log';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import yargs from 'yargs';
import { ExitCode } from '../exit-codes.js';
import { type ExportArgs, exportCommand, exportSession } from './export.js';

let dir: string;
let db: string;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-export-'));
  db = join(dir, 'log.db');
  const log = openSessionLog({ path: db });
  const append = (sessionId: string, type: EventType, data: Record<string, unknown>) =>
    log.append({ sessionId, type, data });
  await append('ssh-1', EventType.SessionStart, {
    connection: 'web-ssh',
    protocol: 'ssh',
    clientAddress: 'x',
  });
  await append('ssh-1', EventType.Auth, {
    method: 'password',
    outcome: 'success',
    subject: 'agent-1',
    groups: [],
  });
  await append('ssh-1', EventType.Output, { stream: 'resize', t: 0, data: '100x30' });
  await append('ssh-1', EventType.Output, { stream: 'stdout', t: 10, data: '$ ' });
  await append('ssh-1', EventType.Output, { stream: 'stdin', t: 400, data: 'uptime\r' });
  await append('ssh-1', EventType.Command, { kind: 'shell', text: 'uptime' });
  await append('ssh-1', EventType.Output, { stream: 'stdout', t: 420, data: 'uptime\r\n up 3 days\r\n' });
  await append('ssh-1', EventType.SessionEnd, { reason: 'client-closed' });
  await append('pg-1', EventType.SessionStart, {
    connection: 'orders',
    protocol: 'postgres',
    clientAddress: 'x',
  });
  await append('pg-1', EventType.Command, { kind: 'query', text: 'SELECT 1' });
  await log.close();
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

function args(id: string, extra: Partial<ExportArgs> = {}): ExportArgs {
  return { id, db, format: 'asciicast', input: false, ...extra };
}

function capture() {
  const out: string[] = [];
  const notes: string[] = [];
  return {
    out,
    notes,
    write: (t: string) => {
      out.push(t);
    },
    note: (t: string) => {
      notes.push(t);
    },
  };
}

describe('gatehouse export', () => {
  it('writes an asciicast v2 recording to stdout by default, through yargs', async () => {
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    await yargs(['export', 'ssh-1', '--db', db]).command(exportCommand).strict().parseAsync();
    vi.mocked(process.stdout.write).mockRestore();
    const cast = parseAsciicast(written.join(''));
    expect(cast.header).toMatchObject({ version: 2, width: 100, height: 30, title: 'agent-1@web-ssh ssh-1' });
    expect(cast.events).toEqual([
      [0.01, 'o', '$ '],
      [0.42, 'o', 'uptime\r\n up 3 days\r\n'],
    ]);
  });

  it('adds typed input with --input', async () => {
    const io = capture();
    await exportSession(args('ssh-1', { input: true }), io);
    expect(parseAsciicast(io.out.join('')).events.map((e) => e[1])).toEqual(['o', 'i', 'o']);
  });

  it('--format json writes every event of the session as JSON lines', async () => {
    const io = capture();
    await exportSession(args('ssh-1', { format: 'json' }), io);
    const lines = io.out.join('').trimEnd().split('\n');
    const events = lines.map((l) => JSON.parse(l) as { seq: number; type: string; hash: string });
    expect(events.map((e) => e.type)).toEqual([
      'session.start',
      'auth',
      'output',
      'output',
      'output',
      'command',
      'output',
      'session.end',
    ]);
    expect(events.every((e) => /^[0-9a-f]{64}$/.test(e.hash))).toBe(true);

    const pg = capture();
    await exportSession(args('pg-1', { format: 'json' }), pg);
    expect(pg.out.join('').trimEnd().split('\n')).toHaveLength(2);
  });

  it('--format text writes the output streams as plain text, for grep', async () => {
    const log = openSessionLog({ path: db });
    const E = '\u001b';
    const out = (t: number, stream: string, data: string) =>
      log.append({ sessionId: 'ssh-2', type: EventType.Output, data: { stream, t, data } });
    await log.append({
      sessionId: 'ssh-2',
      type: EventType.SessionStart,
      data: { connection: 'web-ssh', protocol: 'ssh', clientAddress: 'x' },
    });
    await out(0, 'stdout', `${E}]0;user@host${E}\\$ `);
    await out(5, 'stdin', 'ls --color\r');
    await out(10, 'stdout', `ls --color\r\n${E}[1;34mdir${E}[0m  file\r`);
    await out(20, 'stderr', `\n${E}[31mwarn\u0007${E}[`);
    await out(30, 'resize', '90x20');
    await out(40, 'stdout', `0m\r\n$ ${E}[K`);
    await log.close();

    const io = capture();
    await exportSession(args('ssh-2', { format: 'text' }), io);
    expect(io.out.join('')).toBe('$ ls --color\ndir  file\nwarn\n$ ');

    const file = join(dir, 'ssh-1.txt');
    await exportSession(args('ssh-1', { format: 'text', output: file }), io);
    expect(readFileSync(file, 'utf8')).toBe('$ uptime\n up 3 days\n');
    expect(io.notes).toEqual([`wrote 2 recording events as text to ${file}`]);
    const pg = await exportSession(args('pg-1', { format: 'text' }), capture()).catch((e: unknown) => e);
    expect(pg).toMatchObject({ exitCode: ExitCode.Failure });
  });

  it('--output writes a file readable by its owner only', async () => {
    const file = join(dir, 'ssh-1.cast');
    const io = capture();
    await exportSession(args('ssh-1', { output: file }), io);
    expect(io.out).toEqual([]);
    expect(io.notes).toEqual([`wrote 2 recording events to ${file}`]);
    expect(parseAsciicast(readFileSync(file, 'utf8')).events).toHaveLength(2);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const bad = await exportSession(args('ssh-1', { output: join(dir, 'missing', 'x.cast') }), io).catch(
      (e: unknown) => e,
    );
    expect(bad).toMatchObject({ exitCode: ExitCode.Failure });
  });

  it('exits 4 for an unknown session, 1 for an asciicast of a session without a recording', async () => {
    const nope = await exportSession(args('nope'), capture()).catch((e: unknown) => e);
    expect(nope).toMatchObject({ exitCode: ExitCode.NotFound });
    const pg = await exportSession(args('pg-1'), capture()).catch((e: unknown) => e);
    expect(pg).toMatchObject({ exitCode: ExitCode.Failure });
    expect((pg as Error).message).toContain('has no terminal recording');
    const format = await exportSession(args('ssh-1', { format: 'yaml' as 'json' }), capture()).catch(
      (e: unknown) => e,
    );
    expect(format).toMatchObject({ exitCode: ExitCode.Usage });
  });
});
