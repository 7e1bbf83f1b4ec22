import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

let warned = false;

export interface WorkerScript {
  readonly url: URL;
  /** Node options for the thread: the process's own, less those about its entry point. */
  readonly execArgv: string[];
}

/**
 * The script of one of this package's threads (`name` is its compiled file, e.g.
 * `checkpoint-worker.js`). Worker threads run JavaScript only, so when this module itself runs
 * from its TypeScript source (the test runner does that), the compiled script in ../dist is used:
 * build the package first (`pnpm exec tsc -b packages/session-log`). That script imports the
 * compiled workspace packages too, so the export conditions the test runner resolves sources with
 * are not passed on.
 */
export function workerScript(name: string): WorkerScript {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) {
    return { url: new URL(`./${name}`, here), execArgv: workerExecArgv(process.execArgv, false) };
  }
  const script = new URL(`../dist/${name}`, here);
  if (!existsSync(script)) {
    throw new Error(
      `the session log's thread script ${fileURLToPath(script)} is missing; build it with \`pnpm exec tsc -b packages/session-log\``,
    );
  }
  if (!warned) warnIfStale(new URL('.', here), new URL('../tsconfig.tsbuildinfo', here));
  return { url: script, execArgv: workerExecArgv(process.execArgv, true) };
}

/**
 * A thread inherits the process's options by default, including those that describe how the
 * process was started (`node --input-type=module -e …`), which make a thread running a file fail.
 */
export function workerExecArgv(args: readonly string[], dropConditions: boolean): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const name = arg.split('=', 1)[0] as string;
    const hasValue = arg.includes('=');
    const entryPoint = ['-e', '--eval', '-p', '--print', '--input-type'].includes(name);
    const condition = dropConditions && (name === '--conditions' || name === '-C');
    if (!entryPoint && !condition) out.push(arg);
    else if (!hasValue) i++;
  }
  return out;
}

/**
 * A source edited after the last build means the thread runs other code than what was edited. The build info is what to compare with: the compiler rewrites it on every build that
 * looked at changed sources, but leaves outputs whose text did not change alone.
 */
function warnIfStale(src: URL, buildInfo: URL): void {
  if (!existsSync(buildInfo)) return;
  const built = statSync(buildInfo).mtimeMs;
  const stale = readdirSync(src).filter(
    (name) =>
      name.endsWith('.ts') && !name.endsWith('.test.ts') && statSync(new URL(name, src)).mtimeMs > built,
  );
  if (stale.length === 0) return;
  warned = true;
  process.emitWarning(
    `the session log's threads run the last build, older than ${stale.join(', ')}; rebuild with \`pnpm exec tsc -b packages/session-log\``,
  );
}
