/**
 * A model that needs no network: it asks for the tool calls of a script, one per turn, in order,
 * then answers with what the tools returned. The SDK runs the tools for real — through Gatehouse —
 * exactly as it would for a real model's calls. Used by the end-to-end test and to try the
 * example without an API key.
 */
import { readFileSync } from 'node:fs';
import {
  assistantMessage,
  functionCall,
  modelResponder,
  ScriptedModel,
  type ScriptedModelInput,
} from '@openai/agents/testing';
import { type ToolCallRecord, toolCallsIn } from './transcript.js';

export interface ScriptStep {
  readonly tool: string;
  readonly arguments: Record<string, unknown>;
}

export function readScript(file: string): ScriptStep[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read the script ${file}: ${(err as Error).message}`);
  }
  const steps = (parsed as { steps?: unknown }).steps;
  if (
    !Array.isArray(steps) ||
    !steps.every(
      (s: Partial<ScriptStep> | null) =>
        typeof s?.tool === 'string' && typeof s.arguments === 'object' && s.arguments !== null,
    )
  ) {
    throw new Error(`${file}: expected { "steps": [ { "tool": "…", "arguments": { … } }, … ] }`);
  }
  return steps as ScriptStep[];
}

export interface ScriptedRun {
  readonly model: ScriptedModel;
  /** The tool calls as the model saw them in its last request. */
  seen(): ToolCallRecord[];
}

export function scriptedModel(steps: readonly ScriptStep[]): ScriptedRun {
  const inputs: ScriptedModelInput[] = steps.map((step, i) => [
    functionCall(step.tool, step.arguments, { callId: `call_${i + 1}` }),
  ]);
  inputs.push(
    modelResponder((call) => {
      const input = Array.isArray(call.request.input) ? call.request.input : [];
      const lines = toolCallsIn(input).map(
        (c, i) => `${i + 1}. ${c.name}: ${c.output.split('\n').slice(0, 3).join(' | ')}`,
      );
      return [assistantMessage(`What Gatehouse let through, and what it said:\n${lines.join('\n')}`)];
    }),
  );
  const model = new ScriptedModel(inputs);
  return {
    model,
    seen: () => {
      const input = model.lastCall?.request.input;
      return Array.isArray(input) ? toolCallsIn(input) : [];
    },
  };
}
