/**
 * What a command writes to its standard output, when that is plain from its text: `echo` and
 * `printf` with literal arguments, and `cat` reading a here-document or here-string. This lets
 * `echo 'rm -rf /tmp/x' | sh` be judged as the `rm` it is, instead of only "something piped into a
 * shell". Anything less certain gives undefined, and the caller treats the output as unknown.
 */
import { decodeAnsiC } from './ansi-c.js';
import type { Command, Redirect } from './ast.js';
import { basename } from './shell-invocation.js';
import { hasExpansion, wordValue } from './words.js';

export interface KnownText {
  readonly text: string;
  /** False when the text holds expansions (kept as their source text) the shell would replace. */
  readonly trusted: boolean;
}

/** Output larger than this is not worth reconstructing; the caller treats it as unknown. */
const MAX_OUTPUT = 1 << 20;

const ESCAPE = /\\(?:[0-7]{1,3}|x[0-9A-Fa-f]{1,2}|u[0-9A-Fa-f]{1,4}|U[0-9A-Fa-f]{1,8}|[\s\S])/y;
const ESCAPE_B =
  /\\(?:0[0-7]{0,3}|[1-7][0-7]{0,2}|x[0-9A-Fa-f]{1,2}|u[0-9A-Fa-f]{1,4}|U[0-9A-Fa-f]{1,8}|[\s\S])/y;

/**
 * Backslash escapes as printf reads them. In a `%b` argument `\c` ends all output (`stop`); in the
 * format it is not an escape at all.
 */
function printfUnescape(text: string, re: RegExp): { text: string; stop: boolean } {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text.charAt(i);
    if (c !== '\\' || i + 1 >= text.length) {
      out += c;
      i++;
      continue;
    }
    if (text.charAt(i + 1) === 'c') {
      if (re === ESCAPE_B) return { text: out, stop: true };
      out += '\\c';
      i += 2;
      continue;
    }
    re.lastIndex = i;
    const m = re.exec(text) as RegExpExecArray;
    // `%b` writes `\0NNN`; ANSI-C decoding wants `\NNN`.
    out += decodeAnsiC(m[0].replace(/^\\0(?=[0-7])/, '\\'));
    i += m[0].length;
  }
  return { text: out, stop: false };
}

/** Bash's printf for the directives that cannot fail: `%s`, `%b`, `%c`, `%d`, `%i`, `%%`. */
export function printfOutput(format: string, args: readonly string[]): string | undefined {
  let out = '';
  let next = 0;
  for (;;) {
    const start = next;
    for (let i = 0; i < format.length; i++) {
      const c = format.charAt(i);
      if (c === '\\') {
        ESCAPE.lastIndex = i;
        const m = ESCAPE.exec(format) as RegExpExecArray;
        const { text, stop } = printfUnescape(m[0], ESCAPE);
        out += text;
        if (stop) return out;
        i += m[0].length - 1;
        continue;
      }
      if (c !== '%') {
        out += c;
        continue;
      }
      const d = format.charAt(++i);
      if (d === '%') {
        out += '%';
        continue;
      }
      const arg = args[next] ?? '';
      if (next < args.length) next++;
      if (d === 's') out += arg;
      else if (d === 'c') out += arg.charAt(0);
      else if (d === 'd' || d === 'i') {
        if (arg !== '' && !/^[-+]?[0-9]+$/.test(arg)) return undefined;
        out += arg === '' ? '0' : BigInt(arg).toString();
      } else if (d === 'b') {
        const { text, stop } = printfUnescape(arg, ESCAPE_B);
        out += text;
        if (stop) return out;
      } else {
        return undefined;
      }
      if (out.length > MAX_OUTPUT) return undefined;
    }
    // The format is reused while arguments remain, as long as it consumes some.
    if (next >= args.length || next === start) return out;
  }
}

function echoOutput(args: readonly string[]): string {
  let i = 0;
  let newline = true;
  while (i < args.length && /^-[neE]+$/.test(args[i] as string)) {
    if ((args[i] as string).includes('n')) newline = false;
    i++;
  }
  const raw = args.slice(i).join(' ');
  const end = newline ? '\n' : '';
  if (!raw.includes('\\')) return raw + end;
  // Whether echo reads backslashes depends on the shell and flags (dash always does, bash only
  // with -e): both readings are returned, one per line, so that either one's commands are found.
  const decoded = printfUnescape(raw, ESCAPE_B);
  return `${raw}\n${decoded.text}${decoded.stop ? '' : end}`;
}

/** The text a here-document or here-string redirect feeds to standard input, if any. */
export function redirectInput(redirect: Redirect): KnownText | undefined {
  if (redirect.fd !== undefined && redirect.fd !== '0') return undefined;
  if (redirect.type === 'here-doc') {
    return { text: redirect.body, trusted: redirect.bodyParts.every((p) => p.type === 'literal') };
  }
  if (redirect.type === 'here-string') {
    return { text: `${wordValue(redirect.word)}\n`, trusted: !hasExpansion(redirect.word) };
  }
  return undefined;
}

export function literalOutput(command: Command): KnownText | undefined {
  if (command.type !== 'simple' || command.words.length === 0) return undefined;
  if (command.words.some(hasExpansion)) return undefined;
  // Output sent elsewhere never reaches the pipe.
  if (
    command.redirects.some((r) => r.type === 'file' && (r.fd === undefined || r.fd === '1') && r.op !== '<')
  ) {
    return undefined;
  }
  const [program, ...args] = command.words.map(wordValue) as [string, ...string[]];
  const name = basename(program);
  let text: string | undefined;
  if (name === 'echo') text = echoOutput(args);
  else if (name === 'printf') {
    const rest = args[0] === '--' ? args.slice(1) : args;
    if (rest[0] === '-v') return { text: '', trusted: true };
    text = rest[0] === undefined ? undefined : printfOutput(rest[0], rest.slice(1));
  } else if (name === 'cat' && args.every((a) => a === '-')) {
    let input: KnownText | undefined;
    for (const r of command.redirects) {
      if (r.type === 'file' && (r.fd === undefined || r.fd === '0') && (r.op === '<' || r.op === '<>')) {
        input = undefined;
      } else {
        input = redirectInput(r) ?? input;
      }
    }
    return input;
  }
  return text === undefined ? undefined : { text, trusted: true };
}
