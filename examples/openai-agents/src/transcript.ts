/** One tool call as the model saw it: what it asked for, and the text that came back. */
export interface ToolCallRecord {
  readonly callId: string;
  readonly name: string;
  readonly arguments: unknown;
  /** The tool's output exactly as it was put in front of the model. */
  readonly output: string;
}

interface Item {
  type?: string;
  callId?: string;
  name?: string;
  arguments?: string;
  output?: unknown;
}

/**
 * The tool calls in a model's input items (the SDK's `function_call` and `function_call_result`
 * items), in order. Fed the input of the model's last request, this is what the model was shown.
 */
export function toolCallsIn(items: readonly unknown[]): ToolCallRecord[] {
  const calls = new Map<string, { name: string; arguments: unknown; output?: string }>();
  for (const raw of items) {
    const item = raw as Item;
    if (typeof item.callId !== 'string') continue;
    if (item.type === 'function_call') {
      calls.set(item.callId, { name: item.name ?? '', arguments: parseArguments(item.arguments) });
    } else if (item.type === 'function_call_result') {
      const call = calls.get(item.callId);
      if (call !== undefined) call.output = outputText(item.output);
    }
  }
  return [...calls].map(([callId, call]) => ({
    callId,
    name: call.name,
    arguments: call.arguments,
    output: call.output ?? '',
  }));
}

function parseArguments(text: string | undefined): unknown {
  if (text === undefined) return {};
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function outputText(output: unknown): string {
  if (typeof output === 'string') return output;
  if (Array.isArray(output)) return output.map(outputText).join('');
  const part = output as { type?: string; text?: unknown } | null;
  if (part?.type === 'text' && typeof part.text === 'string') return part.text;
  return JSON.stringify(output);
}
