/**
 * Walks parsed scripts and collects the argv of every simple command, following everything that
 * runs inside: substitutions, compound bodies, function bodies, and the payloads program analysis
 * finds (which are parsed here, one shell level deeper). Standard input is tracked per command so
 * that a shell reading commands from a pipe or a here-document can be judged on what it reads.
 */
import type { Command, Redirect, Script, WordPart } from './ast.js';
import { sensitiveVariable } from './environment.js';
import { type KnownText, literalOutput, redirectInput } from './literal-output.js';
import { ParseContext, Parser } from './parser.js';
import { analyzeProgram } from './program-analysis.js';
import { MAX_NESTING } from './reader.js';
import type { Argv, RunContext, Sink, Stdin } from './run-context.js';
import { commandNameProblem, deferredSubstitutionProblem, substitutionScripts, wordValue } from './words.js';

export interface CollectorOptions {
  readonly maxDepth: number;
  readonly maxLength: number;
  readonly interactive: boolean;
}

/** Enough to explain a result; hostile input must not grow the list without bound. */
const MAX_REASONS = 32;

/** The stdin a command's own redirections give it, or undefined when they leave it alone. */
function redirectedStdin(redirects: readonly Redirect[]): Stdin | undefined {
  let stdin: Stdin | undefined;
  for (const r of redirects) {
    if (r.fd !== undefined && r.fd !== '0') continue;
    if (r.type === 'here-doc' || r.type === 'here-string') {
      const known = redirectInput(r) as KnownText;
      stdin = { kind: 'text', ...known, what: r.type === 'here-doc' ? 'a here-document' : 'a here-string' };
    } else if (r.op === '<' || r.op === '<>') {
      stdin = { kind: 'file', target: r.target };
    } else if (r.op === '<&') {
      stdin = { kind: 'unknown', what: 'a duplicated file descriptor' };
    }
  }
  return stdin;
}

function describe(stdin: Stdin): string {
  switch (stdin.kind) {
    case 'session':
      return "the session's standard input";
    case 'pipe':
      return 'a pipe';
    case 'text':
      return stdin.what;
    case 'file':
      return `the file ${wordValue(stdin.target)}`;
    default:
      return stdin.what;
  }
}

export class Collector implements Sink {
  readonly commands: string[][] = [];
  readonly reasons: string[] = [];
  /** Characters of payload text still allowed, so nested payloads cannot multiply the work. */
  private budget: number;
  /** Scripts being walked right now; payloads parsed meanwhile start their nesting count here. */
  private nesting = 0;

  constructor(private readonly options: CollectorOptions) {
    this.budget = options.maxLength * (options.maxDepth + 1);
  }

  opaque(reason: string): void {
    if (this.reasons.length < MAX_REASONS && !this.reasons.includes(reason)) this.reasons.push(reason);
  }

  /** Parses `text` as shell input and collects its commands. */
  parseText(text: string, ctx: RunContext, origin?: string): void {
    const parse = new ParseContext(this.options.interactive, this.nesting);
    const script = Parser.parse(text, parse);
    for (const problem of parse.problems)
      this.opaque(origin === undefined ? problem : `${origin}: ${problem}`);
    this.script(script, ctx);
  }

  payload(text: string, trusted: boolean, origin: string, ctx: RunContext): void {
    if (!trusted) this.opaque(`${origin}: the command text comes from an expansion`);
    if (ctx.placeholders.some((p) => p !== '' && text.includes(p))) {
      this.opaque(`${origin}: the command text is filled in at run time`);
    }
    if (ctx.depth >= this.options.maxDepth) {
      this.opaque(`${origin}: shells nested deeper than ${this.options.maxDepth} levels`);
      return;
    }
    if (text.length > this.budget) {
      this.opaque(`${origin}: too much nested command text to parse`);
      return;
    }
    this.budget -= text.length;
    this.parseText(text, { ...ctx, depth: ctx.depth + 1 }, origin);
  }

  inner(argv: Argv, ctx: RunContext): void {
    if (ctx.depth >= this.options.maxDepth) {
      this.opaque(`commands nested deeper than ${this.options.maxDepth} levels`);
      return;
    }
    this.commands.push([...argv.values]);
    const problem = commandNameProblem(argv.words[0] as Argv['words'][number]);
    if (problem !== undefined) this.opaque(problem);
    analyzeProgram(argv, { ...ctx, depth: ctx.depth + 1 }, this);
  }

  shellInput(reader: string, ctx: RunContext): void {
    const { stdin } = ctx;
    if (stdin.kind === 'session' && this.options.interactive) return;
    // The rest of what the shell reads is the same unknown stream.
    const rest: RunContext = { ...ctx, stdin: { kind: 'unknown', what: `the input of ${reader}` } };
    const known = this.knownInput(stdin);
    if (known !== undefined) {
      this.payload(known.text, known.trusted, `${describe(stdin)} read by ${reader}`, rest);
    } else {
      this.opaque(`${reader} reads commands from ${describe(stdin)}`);
    }
  }

  programInput(reader: string, ctx: RunContext): void {
    if (ctx.stdin.kind === 'session' && this.options.interactive) return;
    this.opaque(`${reader} reads a program from ${describe(ctx.stdin)}`);
  }

  private knownInput(stdin: Stdin): KnownText | undefined {
    if (stdin.kind === 'text') return stdin;
    if (stdin.kind === 'pipe') return literalOutput(stdin.producer);
    if (stdin.kind === 'file') {
      // `sh < <(echo …)`: the file is the output of a process substitution.
      const [only, ...more] = stdin.target.parts;
      if (only?.type !== 'process-substitution' || more.length > 0) return undefined;
      const [pipeline, ...others] = only.script.pipelines;
      const command = pipeline?.commands.length === 1 ? pipeline.commands[0] : undefined;
      return others.length === 0 && command !== undefined ? literalOutput(command) : undefined;
    }
    return undefined;
  }

  private script(script: Script, ctx: RunContext): void {
    if (this.nesting >= MAX_NESTING) {
      this.opaque(`nesting deeper than ${MAX_NESTING} levels`);
      return;
    }
    this.nesting++;
    try {
      for (const pipeline of script.pipelines) {
        pipeline.commands.forEach((command, i) => {
          const producer = i === 0 ? undefined : pipeline.commands[i - 1];
          this.command(command, producer === undefined ? ctx : { ...ctx, stdin: { kind: 'pipe', producer } });
        });
      }
    } finally {
      this.nesting--;
    }
  }

  private substitutions(parts: readonly WordPart[], ctx: RunContext): void {
    const deferred = deferredSubstitutionProblem(parts);
    if (deferred !== undefined) this.opaque(deferred);
    for (const script of substitutionScripts(parts)) this.script(script, ctx);
  }

  private redirectSubstitutions(redirects: readonly Redirect[], ctx: RunContext): void {
    for (const r of redirects) {
      if (r.type === 'file') this.substitutions(r.target.parts, ctx);
      else if (r.type === 'here-string') this.substitutions(r.word.parts, ctx);
      else this.substitutions(r.bodyParts, ctx);
    }
  }

  private command(command: Command, ctx: RunContext): void {
    if (command.type === 'function') {
      // The body runs when the function is called, with whatever input the caller has.
      this.command(command.body, { ...ctx, stdin: { kind: 'unknown', what: 'the caller of a function' } });
      return;
    }
    if (command.type === 'compound') {
      for (const w of command.words) this.substitutions(w.parts, ctx);
      this.substitutions(command.arithmetic, ctx);
      this.redirectSubstitutions(command.redirects, ctx);
      const inner = { ...ctx, stdin: redirectedStdin(command.redirects) ?? ctx.stdin };
      for (const body of command.bodies) this.script(body, inner);
      return;
    }
    for (const a of command.assignments) {
      // `IFS= read -r line` sets IFS for `read` alone; only a lasting IFS changes later splitting.
      const why = a.name === 'IFS' && command.words.length > 0 ? undefined : sensitiveVariable(a.name);
      if (why !== undefined) this.opaque(why);
    }
    const values = command.words.map(wordValue);
    if (values.length > 0) this.commands.push(values);
    for (const a of command.assignments) for (const v of a.values) this.substitutions(v.parts, ctx);
    for (const w of command.words) this.substitutions(w.parts, ctx);
    for (const w of command.extraWords) this.substitutions(w.parts, ctx);
    this.redirectSubstitutions(command.redirects, ctx);
    const first = command.words[0];
    if (first === undefined) return;
    const problem = commandNameProblem(first);
    if (problem !== undefined) this.opaque(problem);
    const stdin = redirectedStdin(command.redirects) ?? ctx.stdin;
    analyzeProgram({ words: command.words, values }, { ...ctx, stdin }, this);
  }
}
