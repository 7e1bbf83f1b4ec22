/** What the command finder knows about a command while it decides what that command runs. */
import type { Command, Word } from './ast.js';

/** Where a command's standard input comes from, as far as the text tells. */
export type Stdin =
  /** The SSH channel: a terminal for an interactive session, the client's data for an exec. */
  | { readonly kind: 'session' }
  /** The output of the previous command of a pipeline. */
  | { readonly kind: 'pipe'; readonly producer: Command }
  /** A here-document or here-string; `trusted` is false when it holds expansions. */
  | { readonly kind: 'text'; readonly text: string; readonly trusted: boolean; readonly what: string }
  /** `<file`, or `<(…)` as a file. */
  | { readonly kind: 'file'; readonly target: Word }
  | { readonly kind: 'unknown'; readonly what: string };

export interface RunContext {
  /** How many shells deep this command is (`sh -c` payloads, `eval`, `find -exec` …). */
  readonly depth: number;
  readonly stdin: Stdin;
  /** Text another program replaces at run time (`{}` under `find -exec`, `xargs -I R`). */
  readonly placeholders: readonly string[];
}

/** One simple command's words and their argv texts, index for index. */
export interface Argv {
  readonly words: readonly Word[];
  readonly values: readonly string[];
}

/** How program analysis reports back to the collector. */
export interface Sink {
  opaque(reason: string): void;
  /** Shell command text that will run (`sh -c TEXT`, `eval TEXT`, `su -c TEXT`). */
  payload(text: string, trusted: boolean, origin: string, ctx: RunContext): void;
  /** A command another program runs from its arguments (`find -exec … ;`). */
  inner(argv: Argv, ctx: RunContext): void;
  /** A shell (or `source`) reads its commands from `ctx.stdin`. */
  shellInput(reader: string, ctx: RunContext): void;
  /** An interpreter (python, perl …) reads its program from `ctx.stdin`. */
  programInput(reader: string, ctx: RunContext): void;
}
