/**
 * gatehouse-openai-agents: an OpenAI Agents SDK agent whose tools reach PostgreSQL, SSH and
 * Kubernetes only through Gatehouse.
 *
 *   node dist/main.js "Which customers placed orders this week?"            # a real model
 *   node dist/main.js --scripted script.json --transcript out.json "…"     # no network
 *
 * Connection settings come from the environment (see settings.ts and README.md).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { run, setTracingDisabled } from '@openai/agents';
import { createGatehouseAgent } from './agent.js';
import { readScript, scriptedModel } from './scripted-model.js';
import { SettingsError, settingsFromEnv } from './settings.js';
import { type ToolCallRecord, toolCallsIn } from './transcript.js';

const USAGE =
  'usage: gatehouse-openai-agents [--scripted SCRIPT.json] [--transcript OUT.json] [--model NAME] PROMPT';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: {
      scripted: { type: 'string' },
      transcript: { type: 'string' },
      model: { type: 'string' },
      'max-turns': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const prompt = positionals.join(' ').trim();
  if (prompt === '') {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const settings = settingsFromEnv();
  const scripted = values.scripted === undefined ? undefined : scriptedModel(readScript(values.scripted));
  // Traces would go to OpenAI's servers; with a scripted model there is nobody to send them to.
  if (scripted !== undefined) setTracingDisabled(true);
  const { agent, close } = createGatehouseAgent(settings, scripted?.model ?? values.model);
  agent.on('agent_tool_start', (_ctx, tool, { toolCall }) => {
    const args = 'arguments' in toolCall ? toolCall.arguments : '';
    process.stderr.write(`→ ${tool.name} ${args}\n`);
  });
  agent.on('agent_tool_end', (_ctx, tool, result) => {
    process.stderr.write(`← ${tool.name}: ${String(result).split('\n')[0]}\n`);
  });
  process.stderr.write(
    `Gatehouse token: ${settings.tokenSource}; tools: ${agent.tools.map((t) => t.name).join(', ')}\n`,
  );
  try {
    const maxTurns = values['max-turns'] === undefined ? 20 : Number(values['max-turns']);
    const result = await run(agent, prompt, { maxTurns });
    const calls: ToolCallRecord[] = scripted?.seen() ?? toolCallsIn(result.history);
    if (values.transcript !== undefined) {
      writeFileSync(
        values.transcript,
        `${JSON.stringify({ finalOutput: result.finalOutput ?? null, toolCalls: calls }, null, 2)}\n`,
      );
    }
    process.stdout.write(`${result.finalOutput ?? ''}\n`);
    return 0;
  } finally {
    await close();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`gatehouse-openai-agents: ${message}\n`);
    process.exitCode = err instanceof SettingsError ? 2 : 1;
  },
);
