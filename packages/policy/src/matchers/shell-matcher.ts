import { ConfigError } from '@gatehouse/core';
import { checkKeys, keyPath, readList, readObject, readOptionalString } from '../config-reader.js';
import { compileConfigRegex } from '../config-regex.js';
import { compileGlobs, type GlobSet } from '../glob.js';
import type { ShellUnit } from '../units.js';
import type { CommandContext } from './command-context.js';
import { type Candidate, programCandidates } from './program-candidates.js';

export type ShellMatcher = (unit: ShellUnit, command: CommandContext) => boolean;

export const SHELL_CHANNELS = ['shell', 'exec', 'sftp', 'port-forward', 'agent-forward', 'x11'] as const;
/** Channels that open a path into or out of the network; only an explicit allow opens them. */
export const FORWARDING_CHANNELS: ReadonlySet<string> = new Set(['port-forward', 'agent-forward', 'x11']);

/** One `args` pattern. `-r` also matches bundled short options such as `-rf` or `-fr`. */
function argMatcher(pattern: string): (arg: string) => boolean {
  const glob = compileGlobs([pattern]);
  const short = /^-[A-Za-z0-9]$/.test(pattern) ? pattern[1] : undefined;
  if (short === undefined) return (arg) => glob.test(arg);
  return (arg) => glob.test(arg) || (/^-[A-Za-z0-9]{2,}$/.test(arg) && arg.includes(short));
}

export function compileShellMatcher(raw: unknown, path: string, broad: boolean): ShellMatcher {
  const cfg = readObject(raw, path) ?? {};
  checkKeys(
    cfg,
    ['programs', 'args', 'channels', 'destinations', 'sftpOps', 'paths', 'pattern', 'opaque'],
    path,
  );
  const opaqueOnly = cfg['opaque'];
  if (opaqueOnly !== undefined && opaqueOnly !== true) {
    throw new ConfigError(
      'opaque can only be true (it matches commands the shell parser could not fully see)',
      {
        path: keyPath(path, 'opaque'),
      },
    );
  }
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

  const programMatches = (c: Candidate): boolean =>
    programList === undefined || (byName?.test(c.name) ?? false) || (byPath?.test(c.program) ?? false);
  const argsMatch = (given: readonly string[]): boolean => {
    if (args === undefined) return true;
    for (const m of args) if (!given.some(m)) return false;
    return true;
  };

  return (unit, command) => {
    if (opaqueOnly === true && !unit.opaque) return false;
    // Something in an opaque command may run unseen: an allow rule cannot vouch for it.
    if (!broad && unit.opaque) return false;
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
      const forms = unit.pathForms(broad);
      if (broad ? !forms.some((f) => paths.test(f)) : !forms.every((f) => paths.test(f))) return false;
    }
    if (programMatters) {
      if (unit.argv === undefined || unit.argv.length === 0) return false;
      const runs = programCandidates(unit.argv, broad);
      if (!runs.some((c) => programMatches(c) && argsMatch(c.args))) return false;
    }
    return true;
  };
}
