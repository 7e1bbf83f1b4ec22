import type { ShellParse } from '../shell/index.js';

/**
 * The remote end of a legacy scp transfer (`scp -O`, or scp before OpenSSH 9.0): the client runs
 * `scp -t TARGET` (it uploads; the remote is the sink) or `scp -f PATH…` (it downloads; the remote
 * is the source) as an exec command and speaks the rcp protocol over the channel. Pure.
 */
export type LegacyScp =
  | {
      readonly mode: 'sink';
      readonly target: string;
      /** `-r`: directories may arrive. */
      readonly recursive: boolean;
      /** `-d`: the target must be a directory (several sources). */
      readonly targetIsDirectory: boolean;
    }
  | {
      readonly mode: 'source';
      readonly paths: readonly string[];
      readonly recursive: boolean;
    };

export type ScpRecognition =
  | { readonly kind: 'none' }
  | { readonly kind: 'scp'; readonly scp: LegacyScp }
  /** An exec that runs scp as a sink or source in a way the gateway cannot follow: refused. */
  | { readonly kind: 'unsupported'; readonly reason: string };

const REMOTE_FLAGS = /^-[tfdrpv]+$/;

function isScp(argv: readonly string[]): boolean {
  const program = argv[0] ?? '';
  return program === 'scp' || program.endsWith('/scp');
}

/** Whether an argv runs scp in its remote (sink or source) mode. */
function remoteMode(argv: readonly string[]): boolean {
  if (!isScp(argv)) return false;
  for (const arg of argv.slice(1)) {
    if (arg === '--') break;
    if (/^-[A-Za-z0-9]+$/.test(arg) && (arg.includes('t') || arg.includes('f'))) return true;
  }
  return false;
}

/**
 * Reads an exec command as a legacy scp remote end. Only the plain form that scp clients send is
 * followed (`scp [-r] [-p] [-d] [-v] -t|-f [--] PATH…` as the whole command, with literal paths):
 * anything else that starts scp in remote mode (inside a list, with expansions or other options)
 * would move files without the per-file judgment, so it is refused.
 */
export function recognizeLegacyScp(parse: ShellParse): ScpRecognition {
  const remote = parse.commands.filter(remoteMode);
  if (remote.length === 0) return { kind: 'none' };
  const argv = remote[0] as string[];
  if (parse.commands.length !== 1 || parse.opaque) {
    return {
      kind: 'unsupported',
      reason: 'a legacy scp transfer must be the whole command, with literal paths',
    };
  }
  const flags = new Set<string>();
  const paths: string[] = [];
  let options = true;
  for (const arg of argv.slice(1)) {
    if (options && arg === '--') {
      options = false;
      continue;
    }
    if (options && arg.startsWith('-')) {
      if (!REMOTE_FLAGS.test(arg))
        return { kind: 'unsupported', reason: `scp option ${arg} is not supported` };
      for (const flag of arg.slice(1)) flags.add(flag);
      continue;
    }
    options = false;
    paths.push(arg);
  }
  if (flags.has('t') === flags.has('f')) {
    return { kind: 'unsupported', reason: 'scp needs exactly one of -t and -f' };
  }
  if (paths.length === 0 || paths.some((p) => p === '')) {
    return { kind: 'unsupported', reason: 'scp names no path' };
  }
  const recursive = flags.has('r');
  if (flags.has('t')) {
    if (paths.length !== 1) return { kind: 'unsupported', reason: 'scp -t takes one target' };
    return {
      kind: 'scp',
      scp: { mode: 'sink', target: paths[0] as string, recursive, targetIsDirectory: flags.has('d') },
    };
  }
  return { kind: 'scp', scp: { mode: 'source', paths, recursive } };
}

/** Joins a directory and a name as scp does (`dir/name`; `/` stays `/name`). */
export function joinPath(dir: string, name: string): string {
  if (dir === '') return name;
  return dir.endsWith('/') ? `${dir}${name}` : `${dir}/${name}`;
}

function baseName(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

function dirName(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  const slash = trimmed.lastIndexOf('/');
  if (slash < 0) return '';
  return slash === 0 ? '/' : trimmed.slice(0, slash);
}

const GLOB = /[*?[]/;

/**
 * The remote path of a top-level entry that a source sends (`C…`/`D…` with a bare name): the
 * argument it came from when one has that name, else the name in the directory of the first
 * argument with a wildcard (the remote shell expanded it), else the name beside the first argument.
 * `judged` tells whether the path is exactly an argument (already judged when the exec was).
 */
export function sourcePath(paths: readonly string[], name: string): { path: string; judged: boolean } {
  const literal = paths.find((p) => !GLOB.test(p) && baseName(p) === name);
  if (literal !== undefined) return { path: literal, judged: true };
  const glob = paths.find((p) => GLOB.test(p)) ?? (paths[0] as string);
  return { path: joinPath(dirName(glob), name), judged: false };
}
