/**
 * A recorded terminal session, end to end: a person's interactive shell in tmux (OpenSSH `ssh` →
 * gateway → real sshd) recorded into a real SQLite session log, then played back by the real
 * `gatehouse replay` in a second tmux pane of the same size. What the replay leaves on the screen
 * must be what the live session left on it; the asciicast export must hold the recorded output.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventType, type StoredEvent } from '@gatehouse/core';
import { openSessionLog, openSessionLogReader, parseAsciicast } from '@gatehouse/session-log';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli, tempDir } from './support/cli.js';
import { type SshGateway, startSshGateway } from './support/ssh-gateway.js';

const COLS = 80;
const ROWS = 24;
const socket = `gh-replay-${process.pid}`;
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
/** The pane's text, or with `-e` its text with the colours and attributes of every cell. */
const screen = (target: string, attributes = false) =>
  tmux('capture-pane', '-p', ...(attributes ? ['-e'] : []), '-t', target);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitForScreen(target: string, test: (text: string) => boolean, what: string): Promise<string> {
  for (let i = 0; i < 500; i++) {
    const text = screen(target);
    if (test(text)) return text;
    await sleep(20);
  }
  throw new Error(`the screen never showed ${what}:\n${screen(target)}`);
}

/** Waits until the pane has not changed for a while: the shell has drawn everything it will. */
async function settled(target: string): Promise<void> {
  let last = screen(target, true);
  for (let still = 0, i = 0; still < 10 && i < 500; i++) {
    await sleep(30);
    const now = screen(target, true);
    still = now === last ? still + 1 : 0;
    last = now;
  }
}

let gw: SshGateway;
let dir: string;
let db: string;
let log: ReturnType<typeof openSessionLog>;
let live = { text: '', attributes: '' };
let sessionId: string;
let victim: string;

beforeAll(async () => {
  dir = tempDir('gatehouse-tmux-replay-');
  db = join(dir, 'sessions.db');
  log = openSessionLog({ path: db });
  gw = await startSshGateway({
    rules: [
      {
        id: 'no-rm',
        action: 'deny',
        message: 'removing files is not allowed here',
        shell: { programs: ['rm'] },
      },
    ],
    log,
  });
  victim = join(gw.sshd.home, `keep-${process.pid}`);
  writeFileSync(victim, 'keep me');
  execFileSync('chown', [`${gw.sshd.user}:${gw.sshd.user}`, victim]);

  const env = gw.clientEnv();
  tmux(
    'new-session',
    '-d',
    '-s',
    'live',
    '-x',
    String(COLS),
    '-y',
    String(ROWS),
    '--',
    'env',
    `SSH_ASKPASS=${gw.askpass}`,
    'SSH_ASKPASS_REQUIRE=force',
    `GATEHOUSE_TOKEN=${env['GATEHOUSE_TOKEN']}`,
    `HOME=${gw.home}`,
    'ssh',
    ...gw.clientOptions(),
    '-p',
    String(gw.port),
    'deploy@127.0.0.1',
  );
  const prompt = (text: string) => /\$\s*$/.test(text.trimEnd());
  const type = async (line: string, until: (text: string) => boolean, what: string) => {
    tmux('send-keys', '-t', 'live', '-l', line);
    tmux('send-keys', '-t', 'live', 'Enter');
    await waitForScreen('live', until, what);
  };
  await waitForScreen('live', prompt, 'a prompt');
  await type('echo hello-$((6*7))', (t) => t.includes('hello-42'), 'hello-42');
  // Enough lines to scroll the screen, then colours and a carriage return that overwrites.
  await type('seq 1 30', (t) => /^30$/m.test(t), 'the last number');
  await type("printf '\\033[1;32mgreen\\033[0m plain\\n'", (t) => t.includes('green plain'), 'colours');
  await type("printf 'abcdef\\rXY\\n'", (t) => t.includes('XYcdef'), 'the overwrite');
  await type(`rm -f ${victim}`, (t) => t.includes('[gatehouse] denied'), 'the refusal');
  await type('echo done-$((1+2))', (t) => t.includes('done-3'), 'done-3');
  await settled('live');
  live = { text: screen('live'), attributes: screen('live', true) };
  // Hanging up ends the session as it is: nothing more is drawn after the capture.
  tmux('kill-session', '-t', 'live');
  for (let i = 0; i < 500 && sessionId === undefined; i++) {
    const reader = openSessionLogReader(db);
    try {
      sessionId = reader.listSessions({ protocol: 'ssh' }).find((s) => s.endedAt !== undefined)?.id as string;
    } finally {
      reader.close();
    }
    if (sessionId === undefined) await sleep(20);
  }
});

afterAll(async () => {
  try {
    tmux('kill-server');
  } catch {
    // No server left.
  }
  await gw?.stop();
  await log?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  if (victim !== undefined) rmSync(victim, { force: true });
});

/** Plays the session in a new pane of the live one's size and returns its final screen. */
async function replayScreen(name: string, flags: string[]): Promise<{ text: string; attributes: string }> {
  const done = join(gw.work, `${name}.done`);
  const command = [process.execPath, CLI, 'replay', sessionId, '--db', db, ...flags]
    .map((a) => `'${a}'`)
    .join(' ');
  // Status lines go to stderr; only the recording may reach the screen.
  tmux(
    'new-session',
    '-d',
    '-s',
    name,
    '-x',
    String(COLS),
    '-y',
    String(ROWS),
    '--',
    'sh',
    '-c',
    `${command} 2>${done}.err; echo $? > ${done}; exec sleep 600`,
  );
  for (let i = 0; i < 1000 && !existsSync(done); i++) await sleep(20);
  expect(existsSync(done), `replay did not finish: ${screen(name)}`).toBe(true);
  await settled(name);
  return { text: screen(name), attributes: screen(name, true) };
}

describe('replay of a live tmux session', () => {
  it('the live session was recorded through the gateway, the refused line included', () => {
    expect(sessionId).toBeDefined();
    expect(live.text).toContain('done-3');
    expect(live.text).toContain('[gatehouse] denied: removing files is not allowed here (rule no-rm)');
    expect(live.text).toContain('XYcdef');
    // The screen scrolled: `hello-42` is above the top by now.
    expect(live.text).not.toContain('hello-42');
    expect(existsSync(victim)).toBe(true);
  });

  it('gatehouse replay --speed shows the same final screen as the live session, colours included', async () => {
    const played = await replayScreen('timed', ['--speed', '8', '--idle-limit', '200ms']);
    expect(played.text).toBe(live.text);
    expect(played.attributes).toBe(live.attributes);
    expect(played.attributes).toContain('\u001b[1m\u001b[32mgreen');
  });

  it('gatehouse replay --no-timing shows the same final screen', async () => {
    const played = await replayScreen('untimed', ['--no-timing']);
    expect(played.text).toBe(live.text);
    expect(played.attributes).toBe(live.attributes);
  });

  it('--from draws the earlier output at once and ends on the same screen; --to stops before later output', async () => {
    const reader = openSessionLogReader(db);
    let output: StoredEvent[];
    try {
      output = reader.events(sessionId, { types: [EventType.Output], limit: 100_000 });
    } finally {
      reader.close();
    }
    const at = (text: string) => {
      const event = output.find((e) => String(e.data['data']).includes(text));
      expect(event, text).toBeDefined();
      return Number(event?.data['t']);
    };
    // The output of the overwrite (a real carriage return; its echo has a backslash).
    const overwrite = at('abcdef\r');
    const done = at('done-3');
    const seeked = await replayScreen('from', ['--from', String(overwrite / 1000), '--speed', '4']);
    expect(seeked.attributes).toBe(live.attributes);
    const cut = await replayScreen('to', ['--to', String((done - 1) / 1000), '--no-timing']);
    expect(cut.text).toContain('XYcdef');
    expect(cut.text).not.toContain('done-3');
  });

  it('the asciicast export parses and its events are the recorded output events', async () => {
    const res = await runCli(['export', sessionId, '--db', db]);
    expect(res.code, res.stderr).toBe(0);
    const cast = parseAsciicast(res.stdout);
    expect(cast.header).toMatchObject({ version: 2, width: COLS, height: ROWS });
    const reader = openSessionLogReader(db);
    let recorded: StoredEvent[];
    try {
      recorded = reader.events(sessionId, { types: [EventType.Output], limit: 100_000 });
    } finally {
      reader.close();
    }
    const bytes = (e: StoredEvent) =>
      e.data['encoding'] === 'base64'
        ? Buffer.from(String(e.data['data']), 'base64')
        : Buffer.from(String(e.data['data']));
    const shown = recorded.filter((e) => e.data['stream'] === 'stdout' || e.data['stream'] === 'stderr');
    // How many events the output makes depends on timing (a run of output is batched for up to
    // 50 ms); what matters is that the whole session's output is there.
    expect(shown.length).toBeGreaterThan(1);
    expect(Buffer.concat(shown.map(bytes)).toString('utf8')).toContain('done-3');
    // Every output byte, in order, and nothing else.
    expect(
      cast.events
        .filter(([, code]) => code === 'o')
        .map(([, , data]) => data)
        .join(''),
    ).toBe(Buffer.concat(shown.map(bytes)).toString('utf8'));
    expect(cast.events.every(([, code]) => code === 'o')).toBe(true);
    // Times are the recorded offsets (ms since the session started), in seconds.
    const times = new Set(shown.map((e) => Number(e.data['t']) / 1000));
    for (const [time] of cast.events) expect(times.has(time)).toBe(true);
    expect(cast.events.map(([time]) => time)).toEqual(
      cast.events.map(([time]) => time).sort((a, b) => a - b),
    );
  });
});
