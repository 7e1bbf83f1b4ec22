/**
 * The OpenAI Agents SDK example (examples/openai-agents, built) as a child process with a scripted
 * model, for end-to-end tests: its script and transcript files, its stderr, its environment as
 * the kernel holds it, and the approvals it waits for.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, runCli } from './cli.js';

const AGENT = join(REPO, 'examples/openai-agents/dist/main.js');

/** What the example writes with --transcript: the tool calls as the model was shown them. */
export interface Transcript {
  finalOutput: string;
  toolCalls: { callId: string; name: string; arguments: Record<string, unknown>; output: string }[];
}

export interface HeldRequest {
  id: string;
  subject: string;
  connection: string;
  command: { text: string };
}

/** Polls `gatehouse approvals list` until the command with exactly this text is pending. */
export async function pendingApproval(
  adminUrl: string,
  approverToken: string,
  text: string,
  agent: AgentProcess,
): Promise<HeldRequest> {
  for (let i = 0; i < 300; i++) {
    const listed = await runCli(['approvals', 'list', '--state', 'pending', '--json', '--server', adminUrl], {
      env: { GATEHOUSE_TOKEN: approverToken },
    });
    if (listed.code !== 0) throw new Error(listed.stderr);
    const found = (JSON.parse(listed.stdout) as HeldRequest[]).find((r) => r.command.text === text);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the agent's ${text} was never held; agent output:\n${agent.stderr()}`);
}

export interface AgentProcess {
  readonly child: ChildProcess;
  stderr(): string;
  /** Exit status and what the model was shown. */
  done(): Promise<{ code: number | null; transcript: Transcript }>;
}

/** Runs the built example in `dir` with a scripted model, with exactly `env` as its environment. */
export function startAgent(
  dir: string,
  name: string,
  steps: readonly unknown[],
  env: Record<string, string>,
): AgentProcess {
  const script = join(dir, `${name}.script.json`);
  writeFileSync(script, JSON.stringify({ steps }));
  const transcriptFile = join(dir, `${name}.transcript.json`);
  const child = spawn(
    process.execPath,
    [AGENT, '--scripted', script, '--transcript', transcriptFile, 'Check on the shop and tidy up.'],
    { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stdout?.on('data', () => {});
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return {
    child,
    stderr: () => stderr,
    done: async () => {
      const code = await exited;
      const transcript =
        code === 0
          ? (JSON.parse(readFileSync(transcriptFile, 'utf8')) as Transcript)
          : { finalOutput: '', toolCalls: [] };
      return { code, transcript };
    },
  };
}

/** A running process's environment as the kernel holds it, not as the process reports it. */
export function environOf(child: ChildProcess): Record<string, string> {
  const raw = readFileSync(`/proc/${child.pid}/environ`, 'utf8');
  return Object.fromEntries(
    raw
      .split('\0')
      .filter(Boolean)
      .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  );
}
