/**
 * Streams through the Kubernetes module with real kubectl: `logs -f` (masked by the detectors as
 * it streams), `exec` over WebSocket (exit codes, stdout/stderr, stdin, a tty driven in tmux) with
 * the streams recorded in the session log, exec commands judged like SSH execs, SPDY refused with
 * advice, and kubectl 1.29 (SPDY only) picked by the dispatcher. Here the gateway authenticates to
 * the cluster with a client certificate from its kubeconfig.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SPDY_REFUSAL } from '@gatehouse/kubernetes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubeBed, startKubeBed } from './fixtures/kube-apiserver/gateway-bed.js';
import { type KubectlOptions, TmuxSession } from './fixtures/kube-apiserver/kubectl.js';
import { runCli } from './support/cli.js';

const EMAIL = 'jane.doe@example.com';
const POLICY = `      rules:
        - id: no-rm
          action: deny
          message: removing files in containers is not allowed
          shell: { programs: [rm] }
        - id: no-exec-in-prod
          action: deny
          message: no exec in prod
          kubernetes: { namespaces: [prod], subresources: [exec, attach] }
`;

let bed: KubeBed;
let agent: string;

beforeAll(async () => {
  bed = await startKubeBed({ policy: POLICY, upstreamAuth: 'client-cert' });
  agent = await bed.kubeconfigFor('agent-1', ['agents']);
  bed.api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'prod' } });
  for (const ns of ['default', 'prod']) {
    bed.api.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web-1', namespace: ns },
      spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] },
    });
  }
  bed.api.appendLog('default', 'web-1', `started\ncontact ${EMAIL} for help\n`);
});

afterAll(async () => {
  await bed?.close();
});

const run = (args: string[], extra: Partial<KubectlOptions> = {}) => bed.kubectlAs(agent, args, extra);

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

describe('logs', () => {
  it('follows logs as they come, with detected values masked', async () => {
    let seen = '';
    const following = run(['logs', '-f', 'web-1'], {
      onStdout: (t) => {
        seen += t;
      },
    });
    await waitUntil(() => seen.includes('for help'));
    bed.api.appendLog('default', 'web-1', `mail ${EMAIL} again`);
    await waitUntil(() => seen.includes('again'));
    bed.api.endLog('default', 'web-1');
    const done = await following;
    expect(done.code).toBe(0);
    expect(done.stdout).toBe('started\ncontact **** for help\nmail **** again\n');
    expect(bed.api.seen.at(-1)?.user).toBe(bed.api.tls.clientName);
    expect(lastCommand(/\/log\?.*follow=true/)?.data['attributes']).toMatchObject({
      subresource: 'log',
      verb: 'get',
      follow: true,
    });
  });
});

describe('exec over WebSocket (kubectl 1.33)', () => {
  it('passes stdout, stderr and the exit code, and records the streams', async () => {
    const r = await run(['exec', 'web-1', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toBe('err\ncommand terminated with exit code 3\n');
    expect(r.code).toBe(3);
    const command = lastCommand(/\/exec\?/);
    expect(command?.data['attributes']).toMatchObject({
      verb: 'create',
      resource: 'pods',
      subresource: 'exec',
      namespace: 'default',
      name: 'web-1',
      command: ['sh', '-c', 'echo out; echo err >&2; exit 3'],
    });
    const shell = bed
      .events('command')
      .find((e) => e.seq > (command?.seq ?? 0) && e.sessionId === command?.sessionId);
    expect(shell?.data).toMatchObject({ kind: 'exec', text: `sh -c 'echo out; echo err >&2; exit 3'` });
    await waitUntil(() => bed.events('result').some((e) => e.data['command'] === command?.seq));
    const result = bed.events('result').find((e) => e.data['command'] === command?.seq);
    expect(result?.data).toMatchObject({
      status: 'error',
      summary: 'exit 3',
      data: { exitCode: 3, stdoutBytes: 4, stderrBytes: 4 },
    });
    await waitUntil(() =>
      bed.events('output').some((e) => e.sessionId === command?.sessionId && e.data['stream'] === 'stderr'),
    );
    const output = bed.events('output').filter((e) => e.sessionId === command?.sessionId);
    expect(output.map((e) => [e.data['stream'], e.data['data']])).toEqual(
      expect.arrayContaining([
        ['stdout', 'out\n'],
        ['stderr', 'err\n'],
      ]),
    );
  });

  it('passes stdin through and closes it', async () => {
    const r = await run(['exec', '-i', 'web-1', '--', 'sh', '-c', 'cat; echo done'], {
      input: 'piped input\n',
    });
    expect(r.stdout).toBe('piped input\ndone\n');
    expect(r.code).toBe(0);
    const command = lastCommand(/\/exec\?/);
    await waitUntil(() =>
      bed.events('output').some((e) => e.sessionId === command?.sessionId && e.data['stream'] === 'stdin'),
    );
  });

  it('denies a command the shell rules deny, and says why', async () => {
    const before = bed.api.execs.length;
    const r = await run(['exec', 'web-1', '--', 'rm', '-rf', '/tmp/x']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: removing files in containers is not allowed (rule no-rm)\n');
    // The shell parser finds the rm inside sh -c.
    const nested = await run(['exec', 'web-1', '--', 'sh', '-c', 'cd /tmp && rm -rf x']);
    expect(nested.stderr).toBe('error: removing files in containers is not allowed (rule no-rm)\n');
    const denied = await run(['exec', 'web-1', '-n', 'prod', '--', 'ls']);
    expect(denied.stderr).toBe('error: no exec in prod (rule no-exec-in-prod)\n');
    expect(bed.api.execs.length).toBe(before);
  });

  it('runs an interactive shell with a tty, resized, recorded', async () => {
    const tmux = TmuxSession.start(
      `kubectl --cache-dir ${mkdtempSync(join(tmpdir(), 'kc-'))} exec -it web-1 -- sh`,
      {
        KUBECONFIG: agent,
        PATH: process.env['PATH'] ?? '',
      },
    );
    try {
      await tmux.waitFor(/^# ?$/m);
      tmux.type('stty size');
      tmux.enter();
      await tmux.waitFor(/^30 100$/m);
      tmux.resize(120, 40);
      await new Promise((r) => setTimeout(r, 300));
      tmux.type('stty size; echo marker-$((6*7))');
      tmux.enter();
      await tmux.waitFor(/^40 120$/m);
      await tmux.waitFor(/^marker-42$/m);
      tmux.type('exit 4');
      tmux.enter();
      const screen = await tmux.waitFor(/\[exited \d+\]/);
      expect(screen).toContain('command terminated with exit code 4');
      expect(screen).toContain('[exited 4]');
    } finally {
      tmux.kill();
    }
    const command = lastCommand(/\/exec\?.*tty=true/);
    expect(command?.data['attributes']).toMatchObject({ tty: true, stdin: true, command: ['sh'] });
    await waitUntil(() => bed.events('result').some((e) => e.data['command'] === command?.seq));
    const output = bed.events('output').filter((e) => e.sessionId === command?.sessionId);
    const typed = output
      .filter((e) => e.data['stream'] === 'stdin')
      .map((e) => e.data['data'])
      .join('');
    const shown = output
      .filter((e) => e.data['stream'] === 'stdout')
      .map((e) => e.data['data'])
      .join('');
    const resizes = output
      .filter((e) => e.data['stream'] === 'resize')
      .map((e) => JSON.parse(String(e.data['data'])));
    expect(typed).toContain('echo marker-$((6*7))');
    expect(shown).toContain('marker-42');
    expect(resizes).toEqual(
      expect.arrayContaining([
        { Width: 100, Height: 30 },
        { Width: 120, Height: 40 },
      ]),
    );

    // The recording plays back with the real CLI, and exports as asciicast with the resizes.
    const sessionId = String(command?.sessionId);
    await waitUntil(() => bed.events('session.end').some((e) => e.sessionId === sessionId));
    const replayed = await runCli(['replay', sessionId, '--config', bed.configFile, '--no-timing']);
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(replayed.stdout).toContain('marker-42');
    const exported = await runCli(['export', sessionId, '--config', bed.configFile]);
    const [header, ...lines] = exported.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(header).toMatchObject({ version: 2, width: 100, height: 30 });
    expect(lines).toEqual(expect.arrayContaining([[expect.any(Number), 'r', '120x40']]));
    expect(
      lines
        .filter((l) => l[1] === 'o')
        .map((l) => l[2])
        .join(''),
    ).toContain('marker-42');
  });

  it('judges each line piped into a shell, running the allowed ones', async () => {
    const r = await run(['exec', '-i', 'web-1', '--', 'sh'], {
      input: 'echo one\nrm -rf /tmp/x\necho two\n',
    });
    expect(r.stdout).toBe('one\ntwo\n');
    expect(r.stderr).toBe('gatehouse: denied: removing files in containers is not allowed (rule no-rm)\n');
    expect(r.code).toBe(0);
    const lines = bed
      .events('command')
      .filter((e) => e.data['kind'] === 'shell-line')
      .slice(-3);
    expect(lines.map((e) => e.data['text'])).toEqual(['echo one', 'rm -rf /tmp/x', 'echo two']);
  });

  it('judges each line typed into an interactive shell', async () => {
    const tmux = TmuxSession.start(
      `kubectl --cache-dir ${mkdtempSync(join(tmpdir(), 'kc-'))} exec -it web-1 -- sh`,
      {
        KUBECONFIG: agent,
        PATH: process.env['PATH'] ?? '',
      },
    );
    try {
      await tmux.waitFor(/^# ?$/m);
      tmux.type('touch keep; rm keep');
      tmux.enter();
      await tmux.waitFor(/\[gatehouse\] denied: removing files in containers is not allowed \(rule no-rm\)/);
      tmux.type('ls; echo listed');
      tmux.enter();
      await tmux.waitFor(/^listed$/m);
      tmux.type('exit');
      tmux.enter();
      await tmux.waitFor(/\[exited 0\]/);
    } finally {
      tmux.kill();
    }
  });

  it('attaches to the main process, judging its input like a shell', async () => {
    bed.api.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'console', namespace: 'default' },
      spec: { containers: [{ name: 'sh', image: 'busybox', stdin: true }] },
    });
    const r = await run(['attach', '-i', 'console'], { input: 'echo attached\nrm -rf /tmp/y\n' });
    expect(r.stdout).toContain('attached\n');
    expect(r.stderr).toContain('gatehouse: denied: removing files in containers is not allowed (rule no-rm)');
    expect(lastCommand(/\/attach\?/)?.data['attributes']).toMatchObject({
      verb: 'create',
      subresource: 'attach',
      stdin: true,
    });
  });

  it('refuses SPDY with advice when WebSocket is turned off', async () => {
    const r = await run(['exec', 'web-1', '--', 'echo', 'hi'], {
      env: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`Error from server (BadRequest): ${SPDY_REFUSAL}\n`);
    expect(bed.events('note').at(-1)?.data).toMatchObject({ refused: 'spdy' });
  });
});

describe('kubectl 1.29 (SPDY only), picked by the dispatcher through the gateway', () => {
  beforeAll(() => bed.api.setVersion('1.29'));
  afterAll(() => bed.api.setVersion('1.33'));

  it('gets, describes and applies', async () => {
    const version = await run(['version']);
    expect(version.stdout).toContain('Client Version: v1.29');
    expect(version.stdout).toContain('Server Version: v1.29');
    expect((await run(['get', 'pods'])).stdout).toMatch(/web-1\s+1\/1\s+Running/);
    expect((await run(['describe', 'pod', 'web-1'])).stdout).toMatch(/Status:\s+Running/);
    const yaml = await run(['get', 'pod', 'web-1', '-o', 'yaml']);
    const applied = await run(['apply', '-f', '-'], { input: yaml.stdout.replace('app: web', 'app: web2') });
    expect(applied.stdout).toBe('pod/web-1 configured\n');
  });

  it('is told to use WebSocket for exec, and sees a policy denial as such', async () => {
    const r = await run(['exec', 'web-1', '--', 'echo', 'hi']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`Error from server (BadRequest): ${SPDY_REFUSAL}\n`);
    const denied = await run(['exec', 'web-1', '--', 'rm', 'x']);
    expect(denied.stderr).toBe(
      'Error from server (Forbidden): removing files in containers is not allowed (rule no-rm)\n',
    );
  });
});
