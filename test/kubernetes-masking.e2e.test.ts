/**
 * Masking of what containers print, end to end with real kubectl 1.33 through the gateway: exec
 * and attach stdout and stderr and pod logs go through the masking rules' detectors — also when a
 * value arrives split across two WebSocket frames — and the session log records what the client
 * was shown, never the value itself. An identity exempt from a rule sees what the rule would mask.
 * Binary output (kubectl cp) passes byte for byte, but for values in its text.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubeBed, startKubeBed } from './fixtures/kube-apiserver/gateway-bed.js';
import { type KubectlOptions, TmuxSession } from './fixtures/kube-apiserver/kubectl.js';
import { runCli } from './support/cli.js';

const EMAIL = 'jane.doe@example.com';
const EMAIL_PARTIAL = '****.***@******e.com';
const CARD = '4111 1111 1111 1111';
const AWS_KEY = 'AKIAIOSFODNN7EXAMPLE';
/** Prints the three values without any of them appearing whole in the command itself. */
const PRINTS_VALUES = [
  'sh',
  '-c',
  `printf '%s@%s\\n' jane.doe example.com; printf 'AKIA%s\\n' IOSFODNN7EXAMPLE >&2; printf 'card 4111 1111 '; sleep 0.1; printf '1111 1111 done\\n'`,
];

const POLICY = `      rules:
        - { id: everything, action: allow }
`;
const MASKING = `  rules:
    - { name: contacts, detectors: [email], style: partial, exemptGroups: [sre] }
    - { name: payment, detectors: [card], style: full }
`;

let bed: KubeBed;
let agent: string;
let sre: string;

beforeAll(async () => {
  bed = await startKubeBed({
    policy: POLICY,
    masking: MASKING,
    // Long enough that the halves printed 0.1 s apart are judged together even on a busy machine.
    options: '      outputMaskHold: 1s\n',
  });
  agent = await bed.kubeconfigFor('agent-1', ['agents']);
  sre = await bed.kubeconfigFor('sre-1', ['sre']);
  bed.api.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-1', namespace: 'default' },
    spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] },
  });
  bed.api.appendLog('default', 'web-1', `started\nreport to ${EMAIL}, card ${CARD}\n`);
});

afterAll(async () => {
  await bed?.close();
});

const run = (kubeconfig: string, args: string[], extra: Partial<KubectlOptions> = {}) =>
  bed.kubectlAs(kubeconfig, args, extra);

async function waitUntil(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

function lastCommand(pattern: RegExp) {
  return bed
    .events('command')
    .filter((e) => pattern.test(String(e.data['text'])))
    .at(-1);
}

/** Everything the session log holds about one session, as text. */
function sessionLog(sessionId: string | undefined): string {
  const reader = bed.running.log.reader();
  return JSON.stringify(reader.events(String(sessionId)));
}

function recorded(sessionId: string | undefined, stream: string): string {
  return bed
    .events('output')
    .filter((e) => e.sessionId === sessionId && e.data['stream'] === stream)
    .map((e) => String(e.data['data']))
    .join('');
}

describe('exec output', () => {
  it('is masked before the client sees it, also when a value is split across frames', async () => {
    const before = bed.api.execs.length;
    const r = await run(agent, ['exec', 'web-1', '--', ...PRINTS_VALUES]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${EMAIL_PARTIAL}\ncard **** done\n`);
    expect(r.stderr).toBe('****\n');
    // The fixture did send the card in two messages.
    const sent = bed.api.execs[before]?.output.filter((o) => o.channel === 'stdout') ?? [];
    expect(sent.map((o) => o.data.toString()).join('')).toContain(`card ${CARD} done`);
    expect(sent.some((o) => o.data.toString().endsWith('4111 1111 '))).toBe(true);
  });

  it('is recorded as the client saw it: the session log never holds the values', async () => {
    await run(agent, ['exec', 'web-1', '--', ...PRINTS_VALUES]);
    const command = lastCommand(/\/exec\?/);
    await waitUntil(() => bed.events('result').some((e) => e.data['command'] === command?.seq));
    await waitUntil(() => recorded(command?.sessionId, 'stderr') !== '');
    expect(recorded(command?.sessionId, 'stdout')).toBe(`${EMAIL_PARTIAL}\ncard **** done\n`);
    expect(recorded(command?.sessionId, 'stderr')).toBe('****\n');
    const log = sessionLog(command?.sessionId);
    for (const value of [EMAIL, CARD, AWS_KEY, '1111 1111 1111']) expect(log).not.toContain(value);
    const result = bed.events('result').find((e) => e.data['command'] === command?.seq);
    expect(result?.data).toMatchObject({
      summary: 'exit 0',
      data: { stdoutBytes: Buffer.byteLength(`${EMAIL_PARTIAL}\ncard **** done\n`), stderrBytes: 5 },
    });
  });

  it('follows the masking rules: an identity exempt from a rule sees what it masks', async () => {
    const r = await run(sre, ['exec', 'web-1', '--', ...PRINTS_VALUES]);
    expect(r.stdout).toBe(`${EMAIL}\ncard **** done\n`);
    expect(r.stderr).toBe('****\n');
  });

  it('is masked in an interactive shell with a tty, on screen and in the replay', async () => {
    const tmux = TmuxSession.start(
      `kubectl --cache-dir ${mkdtempSync(join(tmpdir(), 'kc-'))} exec -it web-1 -- sh`,
      { KUBECONFIG: agent, PATH: process.env['PATH'] ?? '' },
    );
    let screen = '';
    try {
      await tmux.waitFor(/^# ?$/m);
      tmux.type(`printf 'AKIA%s\\n' IOSFODNN7EXAMPLE; printf '%s@%s\\n' jane.doe example.com`);
      tmux.enter();
      screen = await tmux.waitFor(/^\*\*\*\*\.\*\*\*@/m);
      expect(screen).toMatch(/^\*\*\*\*$/m);
      tmux.type('exit');
      tmux.enter();
      await tmux.waitFor(/\[exited 0\]/);
    } finally {
      tmux.kill();
    }
    expect(screen).not.toContain(AWS_KEY);
    expect(screen).not.toContain(EMAIL);
    const command = lastCommand(/\/exec\?.*tty=true/);
    const sessionId = String(command?.sessionId);
    await waitUntil(() => bed.events('session.end').some((e) => e.sessionId === sessionId));
    const log = sessionLog(sessionId);
    expect(log).not.toContain(AWS_KEY);
    expect(log).not.toContain(EMAIL);
    const replayed = await runCli(['replay', sessionId, '--config', bed.configFile, '--no-timing']);
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(replayed.stdout).toContain(EMAIL_PARTIAL);
    expect(replayed.stdout).not.toContain(AWS_KEY);
  });

  it('masks what an attached process prints', async () => {
    bed.api.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'console', namespace: 'default' },
      spec: { containers: [{ name: 'sh', image: 'busybox', stdin: true }] },
    });
    const r = await run(agent, ['attach', '-i', 'console'], {
      input: `printf 'AKIA%s\\n' IOSFODNN7EXAMPLE\n`,
    });
    expect(r.stdout).toContain('****\n');
    expect(r.stdout).not.toContain(AWS_KEY);
  });

  it('passes binary output byte for byte, and still masks the text in it', async () => {
    const podDir = join(bed.api.podsDir, 'default', 'web-1');
    mkdirSync(podDir, { recursive: true });
    // Every byte value, in an order that is not UTF-8. (Random bytes would do too, but now and
    // then their ASCII stretches form a short address such as `eq@R.DY`, which is masked.)
    const data = Buffer.from(Array.from({ length: 256 * 1024 }, (_, i) => (i * 167 + (i >> 9)) & 0xff));
    writeFileSync(join(podDir, 'data.bin'), data);
    const out = join(mkdtempSync(join(tmpdir(), 'kcp-')), 'data.bin');
    const copied = await run(agent, ['cp', 'web-1:data.bin', out]);
    expect(copied.code, copied.stderr).toBe(0);
    expect(readFileSync(out).equals(data)).toBe(true);
    const half = data.subarray(0, 4096);
    writeFileSync(join(podDir, 'mixed.bin'), Buffer.concat([half, Buffer.from(` ${AWS_KEY} `), half]));
    const cat = await run(agent, ['exec', 'web-1', '--', 'cat', 'mixed.bin']);
    expect(cat.stdoutBytes.equals(Buffer.concat([half, Buffer.from(' **** '), half]))).toBe(true);
  });
});

describe('pod logs', () => {
  it('are masked by the same rules', async () => {
    const agentLogs = await run(agent, ['logs', 'web-1']);
    expect(agentLogs.stdout).toBe(`started\nreport to ${EMAIL_PARTIAL}, card ****\n`);
    const sreLogs = await run(sre, ['logs', 'web-1']);
    expect(sreLogs.stdout).toBe(`started\nreport to ${EMAIL}, card ****\n`);
  });
});
