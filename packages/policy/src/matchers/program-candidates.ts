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
  // Less common ones that also run their arguments as a program (`pkexec rm x`, `screen -dm rm x`).
  'pkexec',
  'unbuffer',
  'parallel',
  'sem',
  'systemd-run',
  'screen',
  'dtach',
  'firejail',
  'bwrap',
  'fakeroot',
  'faketime',
  'proot',
  'torsocks',
  'proxychains',
  'proxychains4',
  'daemonize',
  'catchsegv',
  'valgrind',
  'numactl',
  'cgexec',
  'prlimit',
  'setpriv',
  'ssh-agent',
  'dbus-run-session',
  'dbus-launch',
  'xvfb-run',
]);

export function basename(program: string): string {
  const slash = program.lastIndexOf('/');
  return slash === -1 ? program : program.slice(slash + 1);
}

export interface Candidate {
  /** The program as written (a path or a name). */
  readonly program: string;
  /** Its basename, which `programs` patterns without a slash are compared with. */
  readonly name: string;
  readonly args: readonly string[];
}

/**
 * The programs a simple command may run. Allow rules see only argv[0]: `sudo ls` is not `ls`.
 * Deny rules also see every word after a wrapper that could be a program (not an option, not an
 * assignment) — over-matching `sudo ls rm` is the price of never missing `sudo -u root rm`.
 */
function candidates(argv: readonly string[], broad: boolean): Candidate[] {
  const first = argv[0] as string;
  const out: Candidate[] = [{ program: first, name: basename(first), args: argv.slice(1) }];
  if (!broad || !WRAPPERS.has((out[0] as Candidate).name)) return out;
  for (let i = 1; i < argv.length; i++) {
    const word = argv[i] as string;
    if (word.startsWith('-') || /^[A-Za-z_][A-Za-z0-9_]*=/.test(word)) continue;
    out.push({ program: word, name: basename(word), args: argv.slice(i + 1) });
  }
  return out;
}

// Every shell rule of a connection asks for the same unit's candidates; compute them once per
// decision (argv arrays are fresh per decision, so the weak map empties itself).
const memo = new WeakMap<readonly string[], { narrow?: Candidate[]; broad?: Candidate[] }>();

export function programCandidates(argv: readonly string[], broad: boolean): readonly Candidate[] {
  let entry = memo.get(argv);
  if (entry === undefined) {
    entry = {};
    memo.set(argv, entry);
  }
  if (broad) {
    if (entry.broad === undefined) entry.broad = candidates(argv, true);
    return entry.broad;
  }
  if (entry.narrow === undefined) entry.narrow = candidates(argv, false);
  return entry.narrow;
}
