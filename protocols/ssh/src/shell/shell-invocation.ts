/**
 * How a shell or a script interpreter was asked to find its program: in a `-c` argument (which we
 * can parse), in a script file (which is a program like any other), or on standard input (which
 * we can parse only when we can see what feeds it).
 */

export function basename(program: string): string {
  const slash = program.lastIndexOf('/');
  return slash === -1 ? program : program.slice(slash + 1);
}

/** sh, bash, dash, zsh, ksh, mksh, ash, yash, posh, rbash, fish, csh, tcsh, with version suffixes. */
const SHELL_NAME = /^(?:ba|da|z|k|mk|lk|pdk|ok|a|ya|po|rba|t?c|fi)?sh(?:[0-9][0-9.]*)?$/;
/** Shells whose syntax is not the POSIX one we parse; their payloads are parsed as a best effort. */
const NON_POSIX = /^(?:t?csh|fish)/;

export function isShell(name: string): boolean {
  return SHELL_NAME.test(name);
}

export function isPosixShell(name: string): boolean {
  return !NON_POSIX.test(name);
}

/** Paths that name the reader's own standard input. */
const STDIN_PATH = /^\/(?:dev\/stdin|dev\/fd\/0|proc\/self\/fd\/0)$/;
/** Paths that name an open file descriptor (`/dev/fd/3`, what `<(…)` expands to). */
const DESCRIPTOR_PATH = /^\/(?:dev\/fd|proc\/[^/]+\/fd)\/[0-9]+$/;

/** How a program given a file to read commands from actually gets them. */
export function scriptSource(path: string): 'stdin' | 'descriptor' | 'file' {
  if (STDIN_PATH.test(path)) return 'stdin';
  return DESCRIPTOR_PATH.test(path) ? 'descriptor' : 'file';
}

export type ShellInvocation =
  | { readonly kind: 'command-string'; readonly index: number }
  | { readonly kind: 'stdin' }
  | { readonly kind: 'script'; readonly index: number }
  | { readonly kind: 'none' };

/** Bash's long options that take a value. */
const SHELL_VALUED_LONG = new Set(['--rcfile', '--init-file']);

/** Reads a shell's options (`argv[at]` is the shell) the way sh and bash do. */
export function shellInvocation(argv: readonly string[], at: number): ShellInvocation {
  let commandString = false;
  let readStdin = false;
  let i = at + 1;
  while (i < argv.length) {
    const w = argv[i] as string;
    if (w === '--' || w === '-') {
      i++;
      break;
    }
    if (w.startsWith('--')) {
      i += SHELL_VALUED_LONG.has(w) ? 2 : 1;
      continue;
    }
    if (!/^[-+][A-Za-z]+$/.test(w)) break;
    const letters = w.slice(1);
    if (w.startsWith('-') && letters.includes('c')) commandString = true;
    if (letters.includes('s')) readStdin = true;
    // `-o pipefail`, `-O extglob`: each o/O in a cluster takes the next word.
    i += 1 + (letters.match(/[oO]/g)?.length ?? 0);
  }
  if (commandString) return i < argv.length ? { kind: 'command-string', index: i } : { kind: 'none' };
  if (readStdin || i >= argv.length) return { kind: 'stdin' };
  return { kind: 'script', index: i };
}

interface InterpreterSpec {
  /** Option letters whose presence means the program is in argv (`-c`, `-e`, `-m`). */
  readonly code: string;
  /** Long options with the same meaning. */
  readonly codeLong?: readonly string[];
  /** Options whose value is the next word. */
  readonly valued?: readonly string[];
}

const PYTHON: InterpreterSpec = { code: 'cm', valued: ['-W', '-X', '-Q'] };
const NODE: InterpreterSpec = { code: 'ep', codeLong: ['--eval', '--print'], valued: ['-r', '--require'] };

const INTERPRETERS: Readonly<Record<string, InterpreterSpec>> = {
  python: PYTHON,
  pypy: PYTHON,
  pypy3: PYTHON,
  perl: { code: 'eE', valued: ['-I', '-M', '-m'] },
  ruby: { code: 'e', valued: ['-I', '-r'] },
  irb: { code: '' },
  node: NODE,
  nodejs: NODE,
  bun: { code: 'e', codeLong: ['--eval', '--print'] },
  php: { code: 'rR', valued: ['-c', '-d', '-z'] },
  lua: { code: 'e', valued: ['-l'] },
  luajit: { code: 'e', valued: ['-l'] },
  Rscript: { code: 'e' },
  R: { code: 'e', codeLong: ['--file'] },
  tclsh: { code: '' },
  wish: { code: '' },
  expect: { code: 'c' },
  pwsh: { code: 'cC', codeLong: ['-Command', '-File', '-EncodedCommand'] },
  powershell: { code: 'cC', codeLong: ['-Command', '-File', '-EncodedCommand'] },
  julia: { code: 'eE' },
  osascript: { code: 'e' },
};

function interpreterSpec(name: string): InterpreterSpec | undefined {
  const versionless = name.replace(/[0-9][0-9.]*$/, '');
  return Object.hasOwn(INTERPRETERS, versionless) ? INTERPRETERS[versionless] : undefined;
}

export function isInterpreter(name: string): boolean {
  return interpreterSpec(name) !== undefined;
}

/** True when the interpreter at `argv[at]` takes its program from standard input. */
export function interpreterReadsStdin(argv: readonly string[], at: number): boolean {
  const spec = interpreterSpec((argv[at] as string).replace(/^.*\//, ''));
  if (spec === undefined) return false;
  let i = at + 1;
  while (i < argv.length) {
    const w = argv[i] as string;
    if (w === '-') return true;
    if (w === '--') return i + 1 >= argv.length;
    if (spec.codeLong?.some((o) => w === o || w.startsWith(`${o}=`))) return false;
    if (/^-[A-Za-z]/.test(w) && !w.startsWith('--')) {
      // Short options cluster (`-uc`); a letter taking a value takes the rest (`-MData::Dumper`).
      for (const ch of w.slice(1)) {
        if (spec.code.includes(ch)) return false;
        if (spec.valued?.includes(`-${ch}`)) break;
      }
      i += spec.valued?.includes(w) ? 2 : 1;
      continue;
    }
    if (w.startsWith('-')) {
      i++;
      continue;
    }
    return scriptSource(w) === 'stdin';
  }
  return true;
}
