/**
 * Finds every program a shell command line would run, for policy (`SshCommandAttributes.commands`).
 *
 * The parser over-approximates on purpose: every command of every branch, loop, substitution and
 * nested shell is reported, whether or not it would run this time. When the text does not fully
 * determine what runs (`eval "$x"`, `$CMD args`, `curl … | sh`, an unterminated quote), the result
 * is flagged `opaque` with the reasons, and the commands found are still reported.
 *
 * Kept literal on purpose, because policy matches globs on the text: parameter expansions (`$HOME`,
 * `${x:-y}`), command substitutions in arguments (`$(date)`, reported as written, while their inner
 * commands are reported on their own), globs (`*.log`), brace expansion (`/tmp/{a,b}`) and tildes.
 * Only in a command name do they make the result opaque, since they hide which program runs.
 *
 * Wrappers (`sudo`, `env`, `timeout`, `xargs`, `find`, `command` …) are reported as written: the
 * policy engine unwraps them itself. The parser looks behind them only for what the engine cannot
 * see — a shell and its payload. Payloads parsed as shell text: `sh -c` (any sh/bash/dash/zsh/ksh,
 * behind wrappers or after any word, as in `docker exec c sh -c …`), `eval`, `su -c`, `runuser -c`,
 * `flock -c`, `script -c`, `env -S`, `watch`, `trap`, `alias` values and `ssh host cmd`; the command
 * of `find -exec … ;` is reported as a command of its own. A shell reading standard input has its
 * program parsed when the text shows it (`echo …|sh`, `printf …|sh`, `sh <<EOF`, `sh <<<…`,
 * `cat <<EOF|sh`) and is opaque otherwise. The keywords `time` and `!` are not programs.
 *
 * Input longer than `maxLength` is refused with an opaque result rather than an exception: the
 * function never throws.
 */
import { Collector } from './collector.js';

export interface ShellParseOptions {
  /** Shells nested inside shells (`sh -c`, `eval`, piped payloads) followed before giving up. Default 8. */
  readonly maxDepth?: number;
  /** Longer input (in UTF-16 code units) is not parsed: the result is opaque with no commands. Default 64 KiB. */
  readonly maxLength?: number;
  /**
   * The line was typed into an interactive shell. A shell started without a command then reads the
   * terminal, whose lines the gateway judges as they come, so it is not opaque; history expansion
   * (`!!`, `!rm`) is possible, so it is. Default false (an exec request, whose standard input is
   * data the client sends).
   */
  readonly interactive?: boolean;
}

export interface ShellParse {
  /** The argv of every simple command found, each non-empty, in source order, outer before inner. */
  readonly commands: string[][];
  /** True when the text does not fully determine which programs run. */
  readonly opaque: boolean;
  /** Why the result is opaque; empty when it is not. */
  readonly reasons: string[];
}

export const DEFAULT_MAX_DEPTH = 8;
export const DEFAULT_MAX_LENGTH = 64 * 1024;

function limit(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) ? Math.max(0, Math.floor(value)) : fallback;
}

export function parseShellCommand(text: string, options: ShellParseOptions = {}): ShellParse {
  const maxDepth = limit(options.maxDepth, DEFAULT_MAX_DEPTH);
  const maxLength = limit(options.maxLength, DEFAULT_MAX_LENGTH);
  if (text.length > maxLength) {
    return {
      commands: [],
      opaque: true,
      reasons: [`the command line is longer than ${maxLength} characters`],
    };
  }
  const interactive = options.interactive === true;
  const collector = new Collector({ maxDepth, maxLength, interactive });
  // Interactive bash reads a line starting with `^` as `^old^new`: the previous line, edited.
  if (interactive && text.startsWith('^'))
    collector.opaque('history substitution (^old^new) in an interactive shell');
  try {
    collector.parseText(text, { depth: 0, stdin: { kind: 'session' }, placeholders: [] });
  } catch (err) {
    // Limits should make this unreachable; if a bug gets here, fail closed instead of throwing
    // into the SSH module: what was found so far is kept, and the result is opaque.
    collector.opaque(
      `the command line could not be analysed: ${err instanceof Error ? err.message : 'unknown error'}`,
    );
  }
  return { commands: collector.commands, opaque: collector.reasons.length > 0, reasons: collector.reasons };
}
