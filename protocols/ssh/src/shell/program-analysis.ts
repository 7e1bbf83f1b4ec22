/**
 * Decides what else a simple command runs, given its argv: the payload of a shell (`sh -c '…'`),
 * of `eval`, `su -c`, `watch`, `trap`, `alias`; the commands of `find -exec`; a shell or
 * interpreter reading code from its standard input; and whatever sits behind wrappers such as
 * `sudo`, `env`, `timeout`, `xargs`. The argv itself is always reported as written.
 */
import { assignmentTarget, DECLARATION_BUILTINS, sensitiveVariable } from './environment.js';
import { runAt, runSocat, runTmux } from './job-runners.js';
import type { Argv, RunContext, Sink } from './run-context.js';
import {
  basename,
  interpreterReadsStdin,
  isInterpreter,
  isPosixShell,
  isShell,
  scriptSource,
  shellInvocation,
} from './shell-invocation.js';
import { commandNameProblem, hasExpansion } from './words.js';
import { unwrap, WRAPPERS } from './wrapper-specs.js';

const FIND_EXEC = new Set(['-exec', '-execdir', '-ok', '-okdir']);

function literal(argv: Argv, from: number, to = argv.values.length): boolean {
  for (let i = from; i < to; i++)
    if (hasExpansion(argv.words[i] as (typeof argv.words)[number])) return false;
  return true;
}

function runShell(argv: Argv, at: number, ctx: RunContext, sink: Sink): void {
  const name = basename(argv.values[at] as string);
  const how = shellInvocation(argv.values, at);
  if (!isPosixShell(name) && (how.kind === 'command-string' || how.kind === 'stdin')) {
    sink.opaque(`${name} is not a POSIX shell; its commands were parsed as a best effort`);
  }
  if (how.kind === 'command-string') {
    sink.payload(
      argv.values[how.index] as string,
      literal(argv, how.index, how.index + 1),
      `${name} -c`,
      ctx,
    );
  } else if (how.kind === 'stdin') {
    sink.shellInput(name, ctx);
  } else if (how.kind === 'script') {
    readScript(name, argv, how.index, ctx, sink, false);
  }
}

/**
 * A shell or `source` reading commands from the file named by `argv[at]`. An ordinary script is a
 * program like any other, but `bash /dev/stdin` and `bash <(curl …)` are `… | bash` in disguise.
 */
function readScript(
  reader: string,
  argv: Argv,
  at: number,
  ctx: RunContext,
  sink: Sink,
  always: boolean,
): void {
  const word = argv.words[at];
  if (word === undefined) return;
  const source = scriptSource(argv.values[at] as string);
  if (source === 'stdin') sink.shellInput(reader, ctx);
  else if (always || source === 'descriptor' || word.parts.some((p) => p.type === 'process-substitution')) {
    sink.shellInput(reader, { ...ctx, stdin: { kind: 'file', target: word } });
  }
}

/** Shell builtins that run text or change what names mean; true when `name` is one. */
function runBuiltin(name: string, argv: Argv, at: number, ctx: RunContext, sink: Sink): boolean {
  const { values } = argv;
  const start = values[at + 1] === '--' ? at + 2 : at + 1;
  const args = values.slice(start);
  switch (name) {
    case 'eval':
      if (args.length > 0) sink.payload(args.join(' '), literal(argv, start), 'eval', ctx);
      return true;
    case 'source':
    case '.':
      // Unlike a script run by a new shell, a sourced file can redefine names for later lines.
      readScript(name, argv, start, ctx, sink, true);
      return true;
    case 'alias':
      // The value replaces the name in later lines of an interactive shell.
      args.forEach((a, k) => {
        const eq = a.indexOf('=');
        if (eq > 0 && !a.startsWith('-')) {
          sink.payload(a.slice(eq + 1), literal(argv, start + k, start + k + 1), 'alias', ctx);
        }
      });
      return true;
    case 'trap':
      // `trap CMD SIGNAL…` runs CMD later; `trap - SIG` and `trap -p` run nothing.
      if (args.length >= 2 && !(args[0] as string).startsWith('-')) {
        sink.payload(args[0] as string, literal(argv, start, start + 1), 'trap', ctx);
      }
      return true;
    case 'fc':
      if (!args.some((a) => /^-[A-Za-z]*l/.test(a))) sink.opaque('fc runs commands from the history');
      return true;
    case 'hash':
      if (args.some((a) => /^-[A-Za-z]*p/.test(a))) sink.opaque('hash -p makes a name run another program');
      return true;
    case 'enable':
      if (args.some((a) => /^-[A-Za-z]*f/.test(a)))
        sink.opaque('enable -f loads a builtin from a shared object');
      return true;
    default:
      if (!DECLARATION_BUILTINS.has(name)) return false;
      for (const a of args) {
        // `declare -a 'x=($(rm f))'`: a quoted array value is parsed again, substitutions included.
        if (/^[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])?\+?=\(/.test(a) && /\$\(|`/.test(a)) {
          sink.opaque(`${name} evaluates the quoted array value ${JSON.stringify(a)} again`);
        }
        const target = a.startsWith('-') ? undefined : assignmentTarget(a);
        const why = target === undefined ? undefined : sensitiveVariable(target);
        if (why !== undefined) sink.opaque(why);
      }
      return true;
  }
}

function runFind(argv: Argv, at: number, ctx: RunContext, sink: Sink): void {
  const { values, words } = argv;
  for (let j = at + 1; j < values.length; j++) {
    if (!FIND_EXEC.has(values[j] as string)) continue;
    let k = j + 1;
    while (k < values.length && values[k] !== ';' && !(values[k] === '+' && values[k - 1] === '{}')) k++;
    if (k > j + 1) {
      const inner = { words: words.slice(j + 1, k), values: values.slice(j + 1, k) };
      sink.inner(inner, { ...ctx, placeholders: [...ctx.placeholders, '{}'] });
    }
    j = k;
  }
}

/** `watch CMD…` runs `sh -c 'CMD…'`; with `-x` the words are the argv. Returns where that starts. */
function runWatch(argv: Argv, at: number, ctx: RunContext, sink: Sink): number | undefined {
  const { values } = argv;
  let j = at + 1;
  let exec = false;
  while (j < values.length) {
    const w = values[j] as string;
    if (w === '--') {
      j++;
      break;
    }
    if (w === '-n' || w === '--interval' || w === '-q' || w === '--equexit') {
      j += 2;
      continue;
    }
    if (!w.startsWith('-') || w.length === 1) break;
    if (w === '--exec' || (!w.startsWith('--') && w.includes('x'))) exec = true;
    j++;
  }
  if (j >= values.length) return undefined;
  if (exec) return j;
  sink.payload(values.slice(j).join(' '), literal(argv, j), 'watch', ctx);
  return undefined;
}

/** ssh options that take a value (from ssh(1)). */
const SSH_VALUED = 'BbcDEeFIiJLlmOopQRSWw';

/**
 * `ssh [options] host command…` runs the command on another host, through that host's shell. It is
 * not this host's program, but it is a program the session runs, so policy sees it too.
 */
function runSsh(argv: Argv, at: number, ctx: RunContext, sink: Sink): void {
  const { values } = argv;
  let j = at + 1;
  let host = false;
  while (j < values.length) {
    const w = values[j] as string;
    if (w === '--' && !host) {
      j++;
      continue;
    }
    if (w.startsWith('-') && w.length > 1 && !host) {
      j++;
      // In a cluster, the first letter taking a value takes the rest of the word, or the next word.
      for (let k = 1; k < w.length; k++) {
        if (!SSH_VALUED.includes(w.charAt(k))) continue;
        if (k === w.length - 1) j++;
        break;
      }
      continue;
    }
    if (host) break;
    host = true;
    j++;
  }
  if (j < values.length) sink.payload(values.slice(j).join(' '), literal(argv, j), 'ssh', ctx);
}

/** The replace strings of `xargs -I R`, `-i`, `-iR`, `--replace[=R]`. */
function xargsPlaceholders(values: readonly string[], at: number, end: number): string[] {
  const out: string[] = [];
  for (let j = at + 1; j < end; j++) {
    const w = values[j] as string;
    if (w === '-I' && j + 1 < end) out.push(values[++j] as string);
    else if (w === '-i' || w === '--replace') out.push('{}');
    else if (w.startsWith('--replace=')) out.push(w.slice(10));
    else if (/^-i./.test(w)) out.push(w.slice(2));
    else if (/^-I./.test(w)) out.push(w.slice(2));
  }
  return out;
}

/** Analyses `argv` (already reported) for everything else it runs. */
export function analyzeProgram(argv: Argv, context: RunContext, sink: Sink): void {
  const { values, words } = argv;
  let ctx = context;
  const handled = new Set<number>();
  // Set when a handler below already read the rest of argv as command text or commands.
  let consumed = false;
  let i = 0;
  while (i < values.length) {
    const value = values[i] as string;
    const name = basename(value);
    handled.add(i);
    if (i > 0) {
      const problem = commandNameProblem(words[i] as (typeof words)[number]);
      if (problem !== undefined) sink.opaque(problem);
    }
    if (ctx.placeholders.some((p) => p !== '' && value.includes(p))) {
      sink.opaque(`the program ${value} is filled in at run time`);
    }
    if (isShell(name)) {
      runShell(argv, i, ctx, sink);
      consumed = true;
      break;
    }
    if (isInterpreter(name)) {
      if (interpreterReadsStdin(values, i)) sink.programInput(name, ctx);
      break;
    }
    consumed = true;
    if (runBuiltin(name, argv, i, ctx, sink)) break;
    if (name === 'ssh') {
      runSsh(argv, i, ctx, sink);
      break;
    }
    if (name === 'find') {
      runFind(argv, i, ctx, sink);
      break;
    }
    if (name === 'tmux') {
      runTmux(argv, i, ctx, sink);
      break;
    }
    if (name === 'at' || name === 'batch') {
      runAt(name, argv, i, ctx, sink);
      break;
    }
    if (name === 'socat') {
      runSocat(argv, i, ctx, sink);
      break;
    }
    if (name === 'watch') {
      const next = runWatch(argv, i, ctx, sink);
      if (next === undefined) break;
      i = next;
      continue;
    }
    const spec = Object.hasOwn(WRAPPERS, name) ? WRAPPERS[name] : undefined;
    consumed = false;
    if (spec === undefined) break;
    let next: number | undefined;
    for (const u of unwrap(spec, values, i)) {
      if (u.kind === 'command') next = u.index;
      else if (u.kind === 'shell') sink.shellInput(name, ctx);
      else if (u.kind === 'command-text') {
        const text = (values[u.index] as string).slice(u.skip);
        sink.payload(text, literal(argv, u.index, u.index + 1), `${name} ${u.option}`, ctx);
      } else {
        const target = assignmentTarget(values[u.index] as string);
        const why = target === undefined ? undefined : sensitiveVariable(target);
        if (why !== undefined) sink.opaque(why);
      }
    }
    if (next === undefined) break;
    if (name === 'xargs') {
      // xargs feeds its own input to the command as arguments; the command's stdin is not ours.
      const placeholders = [...ctx.placeholders, ...xargsPlaceholders(values, i, next)];
      ctx = { ...ctx, stdin: { kind: 'unknown', what: 'xargs' }, placeholders };
    }
    i = next;
  }
  // Option tables cannot know every program that runs another (`docker exec c sh -c …`,
  // `kubectl exec p -- sh -c …`, a wrapper with options we do not know): a shell word followed by a
  // command string anywhere in argv has that payload parsed too, at worst adding commands that
  // do not run (`echo sh -c 'rm x'`).
  if (consumed) return;
  for (let k = 1; k < values.length; k++) {
    if (handled.has(k) || !isShell(basename(values[k] as string))) continue;
    const how = shellInvocation(values, k);
    if (how.kind === 'command-string') {
      const origin = `${basename(values[k] as string)} -c`;
      sink.payload(values[how.index] as string, literal(argv, how.index, how.index + 1), origin, ctx);
    }
  }
}
