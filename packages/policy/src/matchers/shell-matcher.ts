import { ConfigError } from '@gatehouse/core';
import { checkKeys, keyPath, readList, readObject, readOptionalString } from '../config-reader.js';
import { compileConfigRegex } from '../config-regex.js';
import { compileGlobs, type GlobSet } from '../glob.js';
import { filePathForms } from '../paths.js';
import type { ShellUnit } from '../units.js';
import type { CommandContext } from './command-context.js';

export type ShellMatcher = (unit: ShellUnit, command: CommandContext) => boolean;

export const SHELL_CHANNELS = ['shell', 'exec', 'sftp', 'port-forward', 'agent-forward', 'x11'] as const;
/** Channels that open a path into or out of the network; only an explicit allow opens them. */
export const FORWARDING_CHANNELS: ReadonlySet<string> = new Set(['port-forward', 'agent-forward', 'x11']);

/**
 * Programs that run another program given in their arguments. A deny rule for `rm` must also catch
 * `sudo rm`, `env X=1 rm`, `timeout 5 rm`, `xargs rm`, `find . -exec rm {} ;`.
 */
const WRAPPERS = new Set([
  'sudo',
  'doas',
  'env',
  'nice',
  'nohup',
  'timeout',
  'time',
  'stdbuf',
  'ionice',
  'chrt',
  'taskset',
  'setsid',
  'xargs',
  'find',
  'busybox',
  'command',
  'exec',
  'builtin',
  'watch',
  'strace',
  'ltrace',
  'chroot',
  'runuser',
  'unshare',
  'nsenter',
  'flock',
  'script',
  'eatmydata',
]);

export function basename(program: string): string {
  const slash = program.lastIndexOf('/');
  return slash === -1 ? program : program.slice(slash + 1);
}

interface Candidate {
  readonly program: string;
  readonly args: readonly string[];
}

/**
 * The programs a simple command may run. Allow rules see only argv[0]: `sudo ls` is not `ls`.
 * Deny rules also see every word after a wrapper that could be a program (not an option, not an
 * assignment) — over-matching `sudo ls rm` is the price of never missing `sudo -u root rm`.
 */
function candidates(argv: readonly string[], broad: boolean): Candidate[] {
  const first = argv[0] as string;
  const out: Candidate[] = [{ program: first, args: argv.slice(1) }];
  if (!broad || !WRAPPERS.has(basename(first))) return out;
  for (let i = 1; i < argv.length; i++) {
    const word = argv[i] as string;
    if (word.startsWith('-') || /^[A-Za-z_][A-Za-z0-9_]*=/.test(word)) continue;
    out.push({ program: word, args: argv.slice(i + 1) });
  }
  return out;
}

/** One `args` pattern. `-r` also matches bundled short options such as `-rf` or `-fr`. */
function argMatcher(pattern: string): (arg: string) => boolean {
  const glob = compileGlobs([pattern]);
  const short = /^-[A-Za-z0-9]$/.test(pattern) ? pattern[1] : undefined;
  if (short === undefined) return (arg) => glob.test(arg);
  return (arg) => glob.test(arg) || (/^-[A-Za-z0-9]{2,}$/.test(arg) && arg.includes(short));
}

export function compileShellMatcher(raw: unknown, path: string, broad: boolean): ShellMatcher {
  const cfg = readObject(raw, path) ?? {};
  checkKeys(cfg, ['programs', 'args', 'channels', 'destinations', 'sftpOps', 'paths', 'pattern'], path);
  const channelList = readList(cfg['channels'], keyPath(path, 'channels'));
  channelList?.forEach((c, i) => {
    if (!(SHELL_CHANNELS as readonly string[]).includes(c)) {
      throw new ConfigError(`unknown channel ${JSON.stringify(c)}; use one of ${SHELL_CHANNELS.join(', ')}`, {
        path: keyPath(keyPath(path, 'channels'), i),
      });
    }
  });
  const channels = channelList === undefined ? undefined : new Set(channelList);
  const programList = readList(cfg['programs'], keyPath(path, 'programs'));
  let byName: GlobSet | undefined;
  let byPath: GlobSet | undefined;
  if (programList !== undefined) {
    // A pattern with a slash names a path (`/usr/local/bin/*`); otherwise the basename is compared.
    const withSlash = programList.filter((p) => p.includes('/'));
    const plain = programList.filter((p) => !p.includes('/'));
    byName = plain.length > 0 ? compileGlobs(plain) : undefined;
    byPath = withSlash.length > 0 ? compileGlobs(withSlash) : undefined;
  }
  const argList = readList(cfg['args'], keyPath(path, 'args'));
  const args = argList?.map(argMatcher);
  const destinationList = readList(cfg['destinations'], keyPath(path, 'destinations'));
  const destinations =
    destinationList === undefined ? undefined : compileGlobs(destinationList, { caseInsensitive: true });
  const opList = readList(cfg['sftpOps'], keyPath(path, 'sftpOps'));
  const sftpOps = opList === undefined ? undefined : new Set(opList.map((o) => o.toLowerCase()));
  const pathList = readList(cfg['paths'], keyPath(path, 'paths'));
  const paths = pathList === undefined ? undefined : compileGlobs(pathList, { path: true });
  const patternSource = readOptionalString(cfg['pattern'], keyPath(path, 'pattern'));
  const pattern =
    patternSource === undefined ? undefined : compileConfigRegex(patternSource, '', keyPath(path, 'pattern'));
  const programMatters = programList !== undefined || args !== undefined;

  const programMatches = (program: string): boolean =>
    programList === undefined ||
    (byName?.test(basename(program)) ?? false) ||
    (byPath?.test(program) ?? false);
  const argsMatch = (given: readonly string[]): boolean => {
    if (args === undefined) return true;
    for (const m of args) if (!given.some(m)) return false;
    return true;
  };

  return (unit, command) => {
    if (channels !== undefined && (unit.channel === undefined || !channels.has(unit.channel))) return false;
    if (pattern !== undefined && !command.patternMatches(pattern, broad)) return false;
    if (
      destinations !== undefined &&
      (unit.destination === undefined || !destinations.test(unit.destination))
    ) {
      return false;
    }
    if (sftpOps !== undefined && (unit.sftpOp === undefined || !sftpOps.has(unit.sftpOp))) return false;
    if (paths !== undefined) {
      if (unit.path === undefined) return false;
      const forms = filePathForms(unit.path, broad);
      if (broad ? !forms.some((f) => paths.test(f)) : !forms.every((f) => paths.test(f))) return false;
    }
    if (programMatters) {
      if (unit.argv === undefined || unit.argv.length === 0) return false;
      if (!candidates(unit.argv, broad).some((c) => programMatches(c.program) && argsMatch(c.args)))
        return false;
    }
    return true;
  };
}
