import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Clock, EventType } from '@gatehouse/core';
import { type Asciicast, openSessionLog } from '@gatehouse/session-log';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import yargs from 'yargs';
import { CliError, ExitCode } from '../exit-codes.js';
import {
  type PlaybackIo,
  parseIdleLimit,
  parseOffset,
  playAsciicast,
  processPlayback,
  type ReplayArgs,
  replay,
  replayCommand,
} from './replay.js';

const START = Date.UTC(2030, 0, 1, 12);
let dir: string;
let db: string;

/** Writes sessions the way the gateway does, with output events at the given offsets (ms). */
async function writeLog(sessions: Record<string, [string, number, string | Buffer][]>): Promise<void> {
  let now = START;
  const clock: Clock = { now: () => new Date(now) };
  const log = openSessionLog({ path: db, clock });
  for (const [id, output] of Object.entries(sessions)) {
    await log.append({
      sessionId: id,
      type: EventType.SessionStart,
      data: { connection: 'web-ssh', protocol: 'ssh', clientAddress: '127.0.0.1:1' },
    });
    for (const [stream, t, data] of output) {
      now = START + t;
      const payload =
        typeof data === 'string' ? { data } : { data: data.toString('base64'), encoding: 'base64' };
      await log.append({ sessionId: id, type: EventType.Output, data: { stream, t, ...payload } });
    }
    await log.append({ sessionId: id, type: EventType.SessionEnd, data: { reason: 'client-closed' } });
  }
  await log.close();
}

function capture(): PlaybackIo & { out: string[]; notes: string[] } {
  const out: string[] = [];
  const notes: string[] = [];
  return {
    out,
    notes,
    write: (t) => {
      out.push(t);
    },
    note: (t) => {
      notes.push(t);
    },
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    now: () => performance.now(),
  };
}

function args(id: string, extra: Partial<ReplayArgs> = {}): ReplayArgs {
  return { id, db, speed: 1, idleLimit: '2s', input: false, timing: false, ...extra };
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-replay-'));
  db = join(dir, 'log.db');
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

describe('gatehouse replay', () => {
  it('--no-timing writes exactly the recorded output, through yargs', async () => {
    const euro = Buffer.from('€');
    await writeLog({
      's-1': [
        ['resize', 0, '120x40'],
        ['stdout', 5, '$ '],
        ['stdin', 100, 'echo 5€\r'],
        ['stdout', 110, Buffer.concat([Buffer.from('echo 5€\r\n5'), euro.subarray(0, 2)])],
        ['stdout', 120, Buffer.concat([euro.subarray(2), Buffer.from('\r\n$ ')])],
        ['stderr', 130, '\u001b[31mwarn\u001b[0m\r\n'],
      ],
    });
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    await yargs(['replay', 's-1', '--db', db, '--no-timing']).command(replayCommand).strict().parseAsync();
    vi.mocked(process.stdout.write).mockRestore();
    expect(written.join('')).toBe('$ echo 5€\r\n5€\r\n$ \u001b[31mwarn\u001b[0m\r\n');
  });

  it("drops escape sequences that act on the viewer's terminal, even split across events; --raw keeps them", async () => {
    const E = '\u001b';
    await writeLog({
      's-1': [
        ['stdout', 0, `${E}]0;owned${E}`],
        ['stdout', 10, `\\${E}[1mbold${E}[0m ${E}]52;c;cm0gLXJm`],
        ['stdout', 20, `\u0007${E}[6`],
        ['stdout', 30, `n${E}P$qm${E}\\${E}[2J${E}[Hok\u009b14t\r\n`],
      ],
    });
    const io = capture();
    await replay(args('s-1'), io);
    expect(io.out.join('')).toBe(`${E}[1mbold${E}[0m ${E}[2J${E}[Hok\r\n`);

    const raw = capture();
    await yargs(['replay', 's-1', '--db', db, '--no-timing', '--raw'])
      .command({ ...replayCommand, handler: (a) => replay(a, raw) })
      .strict()
      .parseAsync();
    expect(raw.out.join('')).toBe(
      `${E}]0;owned${E}\\${E}[1mbold${E}[0m ${E}]52;c;cm0gLXJm\u0007${E}[6n${E}P$qm${E}\\${E}[2J${E}[Hok\u009b14t\r\n`,
    );
  });

  it('--input adds what the client typed; resizes are noted apart from the output', async () => {
    await writeLog({
      's-1': [
        ['stdout', 0, '$ '],
        ['stdin', 100, 'ls\r'],
        ['resize', 150, '{"Width":90,"Height":20}'],
        ['stdout', 200, 'a b\r\n'],
      ],
    });
    const io = capture();
    await replay(args('s-1', { input: true }), io);
    expect(io.out.join('')).toBe('$ ls\ra b\r\n');
    expect(io.notes).toEqual(['[terminal resized to 90x20]']);
  });

  it('exits 4 for an unknown session and 1 for a session without a recording', async () => {
    await writeLog({ quiet: [], resized: [['resize', 0, '80x24']] });
    const errorOf = (id: string) => replay(args(id), capture()).catch((e: unknown) => e);
    expect(await errorOf('nope')).toMatchObject({ exitCode: ExitCode.NotFound, message: 'no session nope' });
    for (const id of ['quiet', 'resized']) {
      const err = await errorOf(id);
      expect(err).toBeInstanceOf(CliError);
      expect(err).toMatchObject({ exitCode: ExitCode.Failure });
      expect((err as Error).message).toContain(`session ${id} has no terminal recording`);
    }
  });

  it('refuses a bad --speed, --idle-limit, --from or --to as usage errors', async () => {
    await writeLog({ 's-1': [['stdout', 0, 'x']] });
    for (const bad of [
      args('s-1', { speed: 0 }),
      args('s-1', { speed: Number.NaN }),
      args('s-1', { idleLimit: 'soon' }),
      args('s-1', { from: 'later' }),
      args('s-1', { to: '1m-2s' }),
      args('s-1', { from: '2s', to: '1s' }),
      args('s-1', { from: '1s', to: '1s' }),
    ]) {
      expect(await replay(bad, capture()).catch((e: unknown) => e)).toMatchObject({
        exitCode: ExitCode.Usage,
      });
    }
    expect([
      parseIdleLimit('2s'),
      parseIdleLimit('500ms'),
      parseIdleLimit('1.5'),
      parseIdleLimit('none'),
    ]).toEqual([2000, 500, 1500, undefined]);
  });

  it('--from draws what came before at once, --to stops there; offsets in seconds, durations or clock times', async () => {
    await writeLog({
      's-1': [
        ['stdout', 0, 'a '],
        ['stdout', 60_000, 'b '],
        ['stdout', 90_000, 'c '],
        ['stdout', 120_000, 'd '],
        ['stdout', 125_000, 'e'],
      ],
    });
    const io = capture();
    await yargs(['replay', 's-1', '--db', db, '--no-timing', '--from', '1m30s', '--to', '2m'])
      .command({ ...replayCommand, handler: (a) => replay(a, io) })
      .strict()
      .parseAsync();
    expect(io.out.join('')).toBe('a b c d ');
    const early = capture();
    await replay(args('s-1', { to: '89.5' }), early);
    expect(early.out.join('')).toBe('a b ');
    const past = await replay(args('s-1', { from: '2:06' }), capture()).catch((e: unknown) => e);
    expect(past).toMatchObject({ exitCode: ExitCode.Usage });
    expect((past as Error).message).toContain('past the end of the recording (its last output is at 2m5s)');
    expect([
      parseOffset('90', '--from'),
      parseOffset('1.5', '--from'),
      parseOffset('1m30s', '--from'),
      parseOffset('500ms', '--from'),
      parseOffset('1:30', '--from'),
      parseOffset('1:02:03.5', '--from'),
    ]).toEqual([90_000, 1500, 90_000, 500, 90_000, 3_723_500]);
    expect(() => parseOffset('1:75', '--to')).toThrow('bad --to "1:75"');
  });

  it('--max-idle still works as another name for --idle-limit', async () => {
    await writeLog({ 's-1': [['stdout', 0, 'x']] });
    const seen: ReplayArgs[] = [];
    await yargs(['replay', 's-1', '--db', db, '--max-idle', '750ms'])
      .command({
        ...replayCommand,
        handler: (a) => {
          seen.push(a);
        },
      })
      .strict()
      .parseAsync();
    expect(seen[0]?.idleLimit).toBe('750ms');
  });

  it('plays with the recorded timing, faster with --speed', async () => {
    await writeLog({
      's-1': [
        ['stdout', 0, 'one '],
        ['stdout', 300, 'two '],
        ['stdout', 600, 'three'],
      ],
    });
    const timed = async (speed: number) => {
      const io = capture();
      const started = performance.now();
      await replay(args('s-1', { timing: true, speed }), io);
      expect(io.out.join('')).toBe('one two three');
      return performance.now() - started;
    };
    const normal = await timed(1);
    const fast = await timed(4);
    expect(normal).toBeGreaterThanOrEqual(550);
    expect(fast).toBeGreaterThanOrEqual(140);
    expect(fast).toBeLessThan(normal - 250);
  });
});

describe('playAsciicast', () => {
  const cast: Asciicast = {
    header: { version: 2, width: 80, height: 24 },
    events: [
      [1, 'o', 'a'],
      [61, 'o', 'b'],
      [61.5, 'r', '100x50'],
      [62, 'o', 'c'],
    ],
  };

  /** A clock that only moves when playback sleeps. */
  function fakeTime(): PlaybackIo & { log: string[] } {
    let now = 0;
    const log: string[] = [];
    return {
      log,
      write: (t) => {
        log.push(`${now}:${t}`);
      },
      note: (t) => {
        log.push(`${now}:${t}`);
      },
      sleep: async (ms) => {
        now += ms;
      },
      now: () => now,
    };
  }

  it('caps pauses at --max-idle and divides them by --speed', async () => {
    const io = fakeTime();
    await playAsciicast(cast, { speed: 2, maxIdleMs: 2000, timing: true }, io);
    expect(io.log).toEqual(['500:a', '1500:b', '1750:[terminal resized to 100x50]', '2000:c']);
  });

  it('keeps long pauses without a cap, and none at all without timing', async () => {
    const uncapped = fakeTime();
    await playAsciicast(cast, { speed: 1, maxIdleMs: undefined, timing: true }, uncapped);
    expect(uncapped.log[1]).toBe('61000:b');
    const untimed = fakeTime();
    await playAsciicast(cast, { speed: 1, maxIdleMs: 2000, timing: false }, untimed);
    expect(untimed.log.every((line) => line.startsWith('0:'))).toBe(true);
  });

  it('with --from, plays what came before without pauses and times the rest from that point', async () => {
    const io = fakeTime();
    await playAsciicast(cast, { speed: 1, maxIdleMs: undefined, timing: true, fromMs: 61_250 }, io);
    // a and b are drawn at once; the resize (61.5 s) follows 0.25 s later, c 0.5 s after that.
    expect(io.log).toEqual(['0:a', '0:b', '250:[terminal resized to 100x50]', '750:c']);
    const cut = fakeTime();
    await playAsciicast(cast, { speed: 2, maxIdleMs: 2000, timing: true, fromMs: 0, toMs: 61_000 }, cut);
    expect(cut.log).toEqual(['500:a', '1500:b']);
  });

  it('waits for a full stdout to drain', async () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => false);
    const io = processPlayback();
    let done = false;
    const pending = Promise.resolve(io.write('x')).then(() => {
      done = true;
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(done).toBe(false);
    process.stdout.emit('drain');
    await pending;
    expect(done).toBe(true);
    write.mockRestore();
  });
});
