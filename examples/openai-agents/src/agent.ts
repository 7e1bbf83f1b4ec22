import { Agent, type Model, type Tool } from '@openai/agents';
import type { AgentSettings } from './settings.js';
import { listPodsTool } from './tools/list-pods.js';
import { runCommandTool } from './tools/run-command.js';
import { sqlQueryTool } from './tools/sql-query.js';

export const INSTRUCTIONS = `You are an operations assistant for a small shop. You reach its PostgreSQL database, its \
host and its Kubernetes cluster only through Gatehouse, a gateway that checks every command against \
policy, may hold a command until a human approves it, and masks personal data in results.
- Masked values (such as a**@example.com or ****) are masked on purpose: do not try to recover them.
- When a tool says Gatehouse refused a command, or an approver denied it, do not look for a way \
around it. Say what was refused and why, and suggest asking a human.
- When a command waits for approval, that is normal: the tool returns once a human decides.`;

export interface GatehouseAgent {
  readonly agent: Agent;
  /** Closes the clients' connections (the PostgreSQL pool). */
  close(): Promise<void>;
}

/** The agent with one tool per Gatehouse endpoint in the settings. */
export function createGatehouseAgent(settings: AgentSettings, model?: Model | string): GatehouseAgent {
  const tools: Tool[] = [];
  const closers: (() => Promise<void>)[] = [];
  if (settings.postgres !== undefined) {
    const sql = sqlQueryTool(settings.postgres, settings.tokens, settings.caPem);
    tools.push(sql.tool);
    closers.push(sql.close);
  }
  if (settings.ssh !== undefined) tools.push(runCommandTool(settings.ssh, settings.tokens));
  if (settings.kubernetes !== undefined) {
    tools.push(listPodsTool(settings.kubernetes, settings.tokens, settings.caPem));
  }
  const agent = new Agent({
    name: 'Gatehouse operations assistant',
    instructions: INSTRUCTIONS,
    tools,
    ...(model === undefined ? {} : { model }),
  });
  return {
    agent,
    close: async () => {
      await Promise.all(closers.map((close) => close()));
    },
  };
}
