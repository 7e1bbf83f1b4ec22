import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

let warned = false;

export interface WriterScript {
  readonly url: URL;
  /** Node options for the thread; undefined to inherit the process's. */
  readonly execArgv: string[] | undefined;
}

/**
 * The writer thread's script. Worker threads run JavaScript only, so when this module itself runs
 * from its TypeScript source (the test runner does that), the compiled script in ../dist is used:
 * build the package first (`pnpm exec tsc -b packages/session-log`). That script imports the
 * compiled workspace packages too, so the `source` export condition the test runner resolves
 * sources with is not passed on.
 */
export function writerScript(): WriterScript {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return { url: new URL('./writer-worker.js', here), execArgv: undefined };
  const script = new URL('../dist/writer-worker.js', here);
  if (!existsSync(script)) {
    throw new Error(
      `the writer thread's script ${fileURLToPath(script)} is missing; build it with \`pnpm exec tsc -b packages/session-log\``,
    );
  }
  if (!warned) warnIfStale(new URL('.', here), new URL('../dist/', here));
  return { url: script, execArgv: withoutConditions(process.execArgv) };
}

function withoutConditions(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--conditions' || arg === '-C') i++;
    else if (!arg.startsWith('--conditions=') && !arg.startsWith('-C=')) out.push(arg);
  }
  return out;
}

/** A source newer than its compiled file means the writer thread runs code other than what was edited. */
function warnIfStale(src: URL, dist: URL): void {
  const stale = readdirSync(src).filter((name) => {
    if (!name.endsWith('.ts') || name.endsWith('.test.ts')) return false;
    const compiled = new URL(name.replace(/\.ts$/, '.js'), dist);
    return !existsSync(compiled) || statSync(new URL(name, src)).mtimeMs > statSync(compiled).mtimeMs;
  });
  if (stale.length === 0) return;
  warned = true;
  process.emitWarning(
    `session log writer thread runs ${fileURLToPath(dist)}, older than ${stale.join(', ')}; rebuild with \`pnpm exec tsc -b packages/session-log\``,
  );
}
