/**
 * The OpenAI Agents SDK example end to end: the example agent (examples/openai-agents, built) runs
 * as its own process with a scripted model, so the SDK really executes its tools — node-postgres,
 * an ssh2 client and @kubernetes/client-node — against one gateway in front of a real PostgreSQL,
 * a real sshd and the Kubernetes API-server fixture. The agent's environment holds only Gatehouse
 * endpoints and its OAuth client credentials; it gets its token from the development token
 * endpoint. A held DELETE is approved through the real `gatehouse approvals` CLI; the session log
 * is read and verified with the real CLI.
 */
import type { StoredEvent } from '@gatehouse/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_CLIENT_ID, type AgentBed, startAgentBed } from './fixtures/agent-bed.js';
import { APP_PASSWORD, APP_USER } from './fixtures/postgres.js';
import {
  environOf,
  type HeldRequest,
  pendingApproval,
  startAgent,
  type Transcript,
} from './support/agent-process.js';
import { runCli } from './support/cli.js';

const SELECT = 'SELECT id, name, email, ssn, card_number FROM customers ORDER BY id';
const DROP = 'DROP TABLE customers';
const DELETE = 'DELETE FROM orders WHERE id = 3';
const SHELL = 'whoami; uname -s';
const DROP_MESSAGE = 'Dropping or truncating tables is not allowed through the gateway. (rule no-drops)';

const STEPS = [
  { tool: 'sql_query', arguments: { sql: SELECT } },
  { tool: 'sql_query', arguments: { sql: DROP } },
  { tool: 'sql_query', arguments: { sql: DELETE } },
  { tool: 'run_command', arguments: { command: SHELL } },
  { tool: 'list_pods', arguments: { namespace: null } },
];

interface SessionJson {
  id: string;
  connection: string;
  protocol: string;
  subject?: string;
  groups?: string[];
}

let bed: AgentBed;
let approverToken: string;
let exitCode: number | null;
let stderr = '';
let transcript: Transcript;
/** The agent's environment as the kernel holds it, read while its DELETE waited for approval. */
let agentEnviron: Record<string, string>;
let orderWhileHeld: string;
let heldRequest: HeldRequest;

beforeAll(async () => {
  bed = await startAgentBed({
    masking: `masking:
  rules:
    - name: personal-data
      columns: [email, ssn, card_number]
      style: partial`,
    postgresPolicy: `      rules:
        - id: no-drops
          action: deny
          message: Dropping or truncating tables is not allowed through the gateway.
          sql: { kinds: [drop, truncate] }
        - id: deletes-need-approval
          action: review
          message: Deleting rows needs a human's approval.
          sql: { kinds: [delete] }`,
    sshPolicy: `      rules:
        - { id: no-rm, action: deny, message: Removing files is not allowed., shell: { programs: [rm] } }`,
    kubernetesPolicy: `      rules:
        - id: system-namespaces
          action: deny
          message: The kube-system namespace is off limits.
          kubernetes: { namespaces: [kube-system] }
        - { id: reads, action: allow, kubernetes: { verbs: [get, list, watch] } }
      defaultAction: deny`,
  });
  for (const name of ['web-1', 'worker-1']) {
    bed.api.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'default' },
      spec: { containers: [{ name: 'app', image: `example/${name}:1` }] },
    });
  }
  const issued = await runCli([
    'token',
    'issue',
    '--sub',
    'alice',
    '--groups',
    'approvers',
    '--config',
    bed.configFile,
  ]);
  if (issued.code !== 0) throw new Error(issued.stderr);
  approverToken = issued.stdout.trim();

  // Only what an agent needs to reach Gatehouse: no PATH, HOME or anything else of the test's.
  const agent = startAgent(bed.dir, 'main', STEPS, { ...bed.agentEnv });
  try {
    heldRequest = await pendingApproval(bed.adminUrl, approverToken, DELETE, agent);
    agentEnviron = environOf(agent.child);
    orderWhileHeld = await bed.cluster.psql('SELECT count(*) FROM orders WHERE id = 3', {
      user: APP_USER,
      password: APP_PASSWORD,
      database: 'shop',
    });
    const approved = await runCli(
      ['approvals', 'approve', heldRequest.id, '--reason', 'OPS-7 duplicate order', '--server', bed.adminUrl],
      { env: { GATEHOUSE_TOKEN: approverToken } },
    );
    if (approved.code !== 0) throw new Error(approved.stderr);
  } catch (err) {
    agent.child.kill('SIGKILL');
    throw err;
  }
  ({ code: exitCode, transcript } = await agent.done());
  stderr = agent.stderr();
}, 180_000);

afterAll(async () => {
  await bed?.close();
});

function output(step: number): string {
  return transcript.toolCalls[step]?.output ?? '';
}

function rowsOf(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

let sessionsOnce: Promise<SessionJson[]> | undefined;

/** The agent's sessions after the first run, read once with the CLI (each CLI run costs seconds here). */
function agentSessions(): Promise<SessionJson[]> {
  sessionsOnce ??= runCli([
    'sessions',
    'list',
    '--user',
    AGENT_CLIENT_ID,
    '--json',
    '--config',
    bed.configFile,
  ]).then((listed) => {
    if (listed.code !== 0) throw new Error(listed.stderr);
    return JSON.parse(listed.stdout) as SessionJson[];
  });
  return sessionsOnce;
}

async function eventsOf(session: string): Promise<StoredEvent[]> {
  const shown = await runCli(['sessions', 'show', session, '--json', '--config', bed.configFile]);
  expect(shown.code, shown.stderr).toBe(0);
  return (JSON.parse(shown.stdout) as { events: StoredEvent[] }).events;
}

describe('an OpenAI Agents SDK agent through Gatehouse', () => {
  it('runs every scripted tool call, in order, and finishes', () => {
    expect(exitCode, stderr).toBe(0);
    expect(transcript.toolCalls.map((c) => [c.name, c.arguments])).toEqual(
      STEPS.map((s) => [s.tool, s.arguments]),
    );
    expect(stderr).toContain(`client credentials for ${AGENT_CLIENT_ID}`);
  });

  it('sees personal data masked in the SELECT', () => {
    const text = output(0);
    expect(text.split('\n')[0]).toBe('SELECT 3');
    const rows = rowsOf(text);
    expect(rows.map((r) => r['name'])).toEqual(['Ada Lovelace', 'Alan Turing', 'Grace Hopper']);
    for (const clear of ['ada@example.com', 'alan@example.org', '078-05-1120', '4111 1111 1111 1111']) {
      expect(text).not.toContain(clear);
    }
    // Masked, not dropped: the columns are there, with values that are not the originals.
    expect(typeof rows[0]?.['email']).toBe('string');
    expect(rows[0]?.['email']).not.toBe('ada@example.com');
    expect(typeof rows[0]?.['card_number']).toBe('string');
  });

  it("gets the policy's message for the DROP, as text it can act on, and the table survives", async () => {
    expect(output(1)).toBe(
      `The statement was not run: Gatehouse policy does not allow this command (SQLSTATE 42501): ${DROP_MESSAGE}`,
    );
    expect(
      await bed.cluster.psql('SELECT count(*) FROM customers', {
        user: APP_USER,
        password: APP_PASSWORD,
        database: 'shop',
      }),
    ).toBe('3\n');
  });

  it('has its DELETE held until a human approves it with the CLI, then run', async () => {
    expect(heldRequest).toMatchObject({ subject: AGENT_CLIENT_ID, connection: 'shop-db' });
    expect(heldRequest.command.text).toBe(DELETE);
    expect(orderWhileHeld).toBe('1\n');
    expect(output(2)).toBe('DELETE 1');
    expect(
      await bed.cluster.psql('SELECT count(*) FROM orders WHERE id = 3', {
        user: APP_USER,
        password: APP_PASSWORD,
        database: 'shop',
      }),
    ).toBe('0\n');
  });

  it('runs the shell command on the host as the account the gateway logs in with', () => {
    expect(output(3)).toBe(`exit status 0\nstdout:\n${bed.sshd.user}\nLinux\n\nstderr:\n`);
  });

  it('lists the pods with the gateway in front of the cluster', () => {
    const pods = rowsOf(output(4));
    expect(pods.map((p) => [p['name'], p['phase'], p['images']])).toEqual([
      ['web-1', 'Running', ['example/web-1:1']],
      ['worker-1', 'Running', ['example/worker-1:1']],
    ]);
    // The cluster saw the gateway's own credential, never the agent's token.
    const listed = bed.api.seen.filter((r) => r.url.startsWith('/api/v1/namespaces/default/pods'));
    expect(listed.length).toBeGreaterThan(0);
    for (const r of listed) {
      expect(r.user).toBe('token');
      expect(r.headers.authorization).toBe(`Bearer ${bed.api.token}`);
    }
  });

  it('ran with no upstream credential in its environment, only Gatehouse endpoints and its client', () => {
    expect(Object.keys(agentEnviron).sort()).toEqual(Object.keys(bed.agentEnv).sort());
    const values = Object.values(agentEnviron).join('\n');
    for (const secret of bed.upstreamSecrets) expect(values).not.toContain(secret);
    // Nor did an upstream credential come back to it through a tool.
    const seen = JSON.stringify(transcript);
    for (const secret of bed.upstreamSecrets) expect(seen).not.toContain(secret);
  });

  it("has every tool call in the session log under the agent's identity, with the decisions", async () => {
    const sessions = await agentSessions();
    // One session per connection: the SQL tool keeps its connection across refused statements.
    expect(sessions.map((s) => s.protocol).sort()).toEqual(['kubernetes', 'postgres', 'ssh']);
    for (const s of sessions) expect(s).toMatchObject({ subject: AGENT_CLIENT_ID, groups: ['agents'] });

    const perSession = await Promise.all(sessions.map((s) => eventsOf(s.id)));
    const events = perSession.flat();
    /** The decision that follows a command in its own session. */
    const decisionAfter = (text: string) => {
      const own = perSession.find((list) =>
        list.some((e) => e.type === 'command' && e.data['text'] === text),
      );
      expect(own, `no command event for ${text}`).toBeDefined();
      const command = own?.find((e) => e.type === 'command' && e.data['text'] === text);
      return own?.find((e) => e.type === 'decision' && e.seq > (command?.seq ?? 0))?.data;
    };
    expect(decisionAfter(SELECT)).toMatchObject({ action: 'allow' });
    expect(decisionAfter(DROP)).toMatchObject({ action: 'deny', rule: 'no-drops' });
    expect(decisionAfter(DELETE)).toMatchObject({ action: 'review', rule: 'deletes-need-approval' });
    expect(decisionAfter(SHELL)).toMatchObject({ action: 'allow' });
    const pods = events.filter(
      (e) => e.type === 'command' && JSON.stringify(e.data).includes('/api/v1/namespaces/default/pods'),
    );
    expect(pods.length).toBeGreaterThan(0);

    const approvals = events.filter((e) => e.type === 'approval' && e.data['id'] === heldRequest.id);
    expect(approvals.map((e) => e.data['state'])).toEqual(['requested', 'approved']);
    expect(approvals[1]?.data).toMatchObject({ approver: 'alice', reason: 'OPS-7 duplicate order' });

    const auth = events.filter((e) => e.type === 'auth');
    expect(auth.length).toBe(sessions.length);
    const logged = JSON.stringify(events);
    expect(logged).not.toContain(bed.agentEnv['GATEHOUSE_CLIENT_SECRET']);
    expect(logged).not.toContain('ada@example.com');
  }, 90_000);

  it('reads as a timeline with `gatehouse sessions show`', async () => {
    const db = (await agentSessions()).find((s) => s.protocol === 'postgres');
    const shown = await runCli(['sessions', 'show', db?.id ?? '', '--config', bed.configFile]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/user\s+support-agent \[agents\]/);
    expect(shown.stdout).toMatch(/decision\s+deny by no-drops: Dropping or truncating tables/);
    expect(shown.stdout).toMatch(/approval\s+approved by alice: OPS-7 duplicate order/);
    expect(shown.stdout).toMatch(/result\s+ok, DELETE 1/);
  }, 90_000);

  it('leaves a session log that `gatehouse verify` accepts', async () => {
    const verified = await runCli(['verify', '--config', bed.configFile]);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/^OK /);
  }, 90_000);
});

describe('when Gatehouse refuses, or an approver says no', () => {
  it('hands the model each refusal as text it can reason about (with a static GATEHOUSE_TOKEN)', async () => {
    const issued = await runCli([
      'token',
      'issue',
      '--sub',
      AGENT_CLIENT_ID,
      '--groups',
      'agents',
      '--ttl',
      '5m',
      '--config',
      bed.configFile,
    ]);
    expect(issued.code, issued.stderr).toBe(0);
    const { GATEHOUSE_TOKEN_URL, GATEHOUSE_CLIENT_ID, GATEHOUSE_CLIENT_SECRET, ...endpoints } = bed.agentEnv;
    const held = 'DELETE FROM orders WHERE id = 2';
    const agent = startAgent(
      bed.dir,
      'refused',
      [
        { tool: 'sql_query', arguments: { sql: held } },
        { tool: 'run_command', arguments: { command: 'rm -rf /tmp/gatehouse-agent-victim' } },
        { tool: 'list_pods', arguments: { namespace: 'kube-system' } },
        { tool: 'sql_query', arguments: { sql: 'SELECT count(*) AS n FROM orders' } },
      ],
      { ...endpoints, GATEHOUSE_TOKEN: issued.stdout.trim() },
    );
    let request: HeldRequest;
    try {
      request = await pendingApproval(bed.adminUrl, approverToken, held, agent);
      const denied = await runCli(
        ['approvals', 'deny', request.id, '--reason', 'not during the freeze', '--server', bed.adminUrl],
        { env: { GATEHOUSE_TOKEN: approverToken } },
      );
      expect(denied.code, denied.stderr).toBe(0);
    } catch (err) {
      agent.child.kill('SIGKILL');
      throw err;
    }
    const { code, transcript: seen } = await agent.done();
    expect(code, agent.stderr()).toBe(0);
    expect(agent.stderr()).toContain('Gatehouse token: GATEHOUSE_TOKEN');
    expect(seen.toolCalls.map((c) => c.output)).toEqual([
      `The statement was not run: an approver denied this command (SQLSTATE 42501): request ${request.id} was denied by alice: not during the freeze`,
      'exit status 126: the command was not run: Gatehouse policy does not allow this command\nstdout:\n\nstderr:\ngatehouse: denied: Removing files is not allowed. (rule no-rm)\n',
      'The request was not run: Gatehouse policy does not allow this command (HTTP 403): The kube-system namespace is off limits. (rule system-namespaces)',
      // Order 2 is still there; order 3 went with the approved DELETE above.
      'SELECT 1\n{"n":"2"}',
    ]);
  }, 90_000);
});
