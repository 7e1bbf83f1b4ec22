/**
 * Programs that hand command text to something else to run later or elsewhere, outside the shell
 * that runs them: a tmux server, `at`/`batch`'s queue, socat's `EXEC:`/`SYSTEM:` addresses. Their
 * payload is parsed when the text shows it, and the command is opaque, since keys sent to a pane,
 * a queued job or a server's configuration can run what no word shows.
 */
import type { Argv, RunContext, Sink } from './run-context.js';
import { hasExpansion } from './words.js';

/** tmux commands that run shell text, start a shell, or type into one. */
const TMUX_RUNS = new Set([
  'new',
  'new-session',
  'neww',
  'new-window',
  'splitw',
  'split-window',
  'respawnp',
  'respawn-pane',
  'respawnw',
  'respawn-window',
  'run',
  'run-shell',
  'if',
  'if-shell',
  'popup',
  'display-popup',
  'pipep',
  'pipe-pane',
  'send',
  'send-keys',
  'source',
  'source-file',
  'set-hook',
  'bind',
  'bind-key',
  'command-prompt',
  'confirm-before',
]);

function literalWord(argv: Argv, i: number): boolean {
  const word = argv.words[i];
  return word !== undefined && !hasExpansion(word);
}

/**
 * `tmux [opts] cmd [args] [; cmd …]`: every word after a command that runs something is parsed as
 * possible shell text (over-reporting an option's value as a command does no harm).
 */
export function runTmux(argv: Argv, at: number, ctx: RunContext, sink: Sink): void {
  const { values } = argv;
  let running = false;
  for (let j = at + 1; j < values.length; j++) {
    const w = values[j] as string;
    if (w === ';' || w === '\\;') {
      running = false;
      continue;
    }
    if (!running && TMUX_RUNS.has(w)) {
      running = true;
      sink.opaque(`tmux ${w} runs commands through the tmux server`);
      continue;
    }
    if (running && !w.startsWith('-')) sink.payload(w, literalWord(argv, j), `tmux`, ctx);
  }
}

/** `at`/`batch` queue the commands they read (standard input, or `-f FILE`) for later. */
export function runAt(name: string, argv: Argv, at: number, ctx: RunContext, sink: Sink): void {
  const args = argv.values.slice(at + 1);
  // Listing, removing or showing jobs queues nothing.
  if (args.some((a) => /^-[A-Za-z]*[lrdc]/.test(a))) return;
  if (args.some((a) => /^-[A-Za-z]*f/.test(a))) {
    sink.opaque(`${name} queues commands from a file`);
    return;
  }
  sink.shellInput(name, ctx);
  sink.opaque(`${name} runs its commands later, outside this session`);
}

/** socat addresses that run a program: `EXEC:cmd args`, `SYSTEM:shell text`, with `,options`. */
export function runSocat(argv: Argv, at: number, ctx: RunContext, sink: Sink): void {
  const { values } = argv;
  for (let j = at + 1; j < values.length; j++) {
    const m = /^(EXEC|SYSTEM):(.*)$/is.exec(values[j] as string);
    if (m === null) continue;
    sink.opaque(`socat ${(m[1] as string).toUpperCase()}: runs a command`);
    // Address options follow the last comma outside the command; parse with and without them.
    const text = m[2] as string;
    sink.payload(text, literalWord(argv, j), 'socat', ctx);
    const comma = text.lastIndexOf(',');
    if (comma > 0) sink.payload(text.slice(0, comma), literalWord(argv, j), 'socat', ctx);
  }
}
