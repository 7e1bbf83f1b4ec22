/**
 * Programs that run another program named in their arguments, with enough of their option syntax
 * to find where that program starts. The policy engine unwraps the same programs on its own (see
 * `program-candidates.ts` in @gatehouse/policy), broadly and without option knowledge; the parser
 * needs the precise position only to notice a shell or a payload behind the wrapper
 * (`sudo -u root sh -c '…'`, `su -c '…'`, `flock /run/x -c '…'`), so argv is reported unchanged.
 */

export interface WrapperSpec {
  /** Options whose value is the next word (`sudo -u root`). */
  readonly valued?: readonly string[];
  /** Options whose value is shell command text (`su -c`, `flock -c`, `env -S`). */
  readonly commandText?: readonly string[];
  /** Options after which the wrapper runs nothing (`command -v`, `sudo -l`). */
  readonly noRun?: readonly string[];
  /** Options that make it start a shell (`sudo -i`, `doas -s`). */
  readonly shellOptions?: readonly string[];
  /** Plain words before the command: `timeout DURATION`, `chroot NEWROOT`, `su USER`. */
  readonly positionals?: number;
  /** An option that replaces the positional (`runuser -u USER cmd` versus `runuser USER -c …`). */
  readonly positionalOption?: string;
  /** `NAME=value` words before the command are environment settings (`env`, `sudo`). */
  readonly assignments?: boolean;
  /** Words that look like operands but are options (`env -`). */
  readonly flags?: readonly string[];
  /** Never runs a command given as words (`su`, `script`: extra words are not a program). */
  readonly noCommand?: boolean;
  /** Starts a shell when no command is given (`su`, `chroot DIR`). */
  readonly shellWithoutCommand?: boolean;
}

const SU_VALUED = ['-s', '--shell', '-g', '--group', '-G', '--supp-group', '-w', '--whitelist-environment'];

export const WRAPPERS: Readonly<Record<string, WrapperSpec>> = {
  sudo: {
    valued: [
      '-u',
      '-g',
      '-h',
      '-p',
      '-C',
      '-D',
      '-r',
      '-t',
      '-T',
      '-U',
      '-R',
      '--user',
      '--group',
      '--host',
      '--prompt',
      '--close-from',
      '--chdir',
      '--role',
      '--type',
      '--command-timeout',
      '--other-user',
      '--chroot',
    ],
    noRun: [
      '-l',
      '--list',
      '-v',
      '--validate',
      '-e',
      '--edit',
      '-V',
      '--version',
      '-K',
      '--remove-timestamp',
    ],
    shellOptions: ['-i', '-s', '--login', '--shell'],
    assignments: true,
  },
  doas: { valued: ['-u', '-C'], shellOptions: ['-s'] },
  env: {
    valued: ['-u', '--unset', '-C', '--chdir'],
    commandText: ['-S', '--split-string'],
    flags: ['-'],
    assignments: true,
  },
  nice: { valued: ['-n', '--adjustment'] },
  nohup: {},
  setsid: {},
  eatmydata: {},
  builtin: {},
  busybox: {},
  timeout: { valued: ['-s', '--signal', '-k', '--kill-after'], positionals: 1 },
  time: { valued: ['-f', '--format', '-o', '--output'] },
  stdbuf: { valued: ['-i', '--input', '-o', '--output', '-e', '--error'] },
  ionice: { valued: ['-c', '--class', '-n', '--classdata', '-p', '--pid', '-P', '--pgid', '-u', '--uid'] },
  chrt: {
    valued: ['-T', '--sched-runtime', '-P', '--sched-period', '-D', '--sched-deadline'],
    positionals: 1,
  },
  taskset: { positionals: 1 },
  command: { noRun: ['-v', '-V'] },
  exec: { valued: ['-a'] },
  strace: { valued: ['-e', '-o', '-p', '-s', '-u', '-E', '-a', '-b', '-I', '-O', '-P', '-S', '-X'] },
  ltrace: { valued: ['-e', '-o', '-p', '-s', '-u', '-n', '-a', '-A', '-D', '-F', '-l', '-x'] },
  chroot: { valued: ['--userspec', '--groups'], positionals: 1, shellWithoutCommand: true },
  unshare: {
    valued: ['-S', '--setuid', '-G', '--setgid', '-R', '--root', '-w', '--wd', '--map-user', '--map-group'],
    shellWithoutCommand: true,
  },
  nsenter: { valued: ['-t', '--target', '-S', '--setuid', '-G', '--setgid'], shellWithoutCommand: true },
  flock: {
    valued: ['-w', '--wait', '--timeout', '-E', '--conflict-exit-code'],
    commandText: ['-c', '--command'],
    positionals: 1,
  },
  script: {
    valued: [
      '-T',
      '--log-timing',
      '-I',
      '--log-in',
      '-O',
      '--log-out',
      '-B',
      '--log-io',
      '-E',
      '--echo',
      '-m',
    ],
    commandText: ['-c', '--command'],
    noCommand: true,
    shellWithoutCommand: true,
  },
  su: {
    valued: SU_VALUED,
    commandText: ['-c', '--command', '--session-command'],
    flags: ['-'],
    positionals: 1,
    noCommand: true,
    shellWithoutCommand: true,
  },
  runuser: {
    valued: [...SU_VALUED, '-u', '--user'],
    commandText: ['-c', '--command', '--session-command'],
    flags: ['-'],
    positionals: 1,
    positionalOption: '-u',
    shellWithoutCommand: true,
  },
  xargs: {
    valued: [
      '-a',
      '--arg-file',
      '-d',
      '--delimiter',
      '-E',
      '-I',
      '-L',
      '--max-lines',
      '-n',
      '--max-args',
      '-P',
      '--max-procs',
      '-s',
      '--max-chars',
      '--process-slot-var',
    ],
  },
};

/** What a wrapper does with its arguments. */
export type Unwrapped =
  | { readonly kind: 'command'; readonly index: number }
  | {
      /** Shell command text in word `index`, after `skip` characters (`--command=` forms). */
      readonly kind: 'command-text';
      readonly option: string;
      readonly index: number;
      readonly skip: number;
    }
  | { readonly kind: 'shell' }
  | { readonly kind: 'assignment'; readonly index: number };

/** Reads a wrapper's options starting at `argv[at]` (the wrapper itself) and says what it runs. */
export function unwrap(spec: WrapperSpec, argv: readonly string[], at: number): Unwrapped[] {
  const out: Unwrapped[] = [];
  let positionals = spec.positionals ?? 0;
  let shell = spec.shellWithoutCommand === true;
  let i = at + 1;
  while (i < argv.length) {
    const w = argv[i] as string;
    if (w === '--') {
      i++;
      break;
    }
    const textOption = spec.commandText?.find(
      (o) =>
        w === o ||
        (o.startsWith('--') && w.startsWith(`${o}=`)) ||
        // A short-option cluster ending in the letter: `script -qc 'cmd'`, `su -lc 'cmd'`.
        (o.length === 2 && /^-[A-Za-z]+$/.test(w) && w.endsWith(o.charAt(1))),
    );
    if (textOption !== undefined) {
      if (!w.startsWith('--') || w === textOption) {
        if (i + 1 < argv.length) out.push({ kind: 'command-text', option: w, index: i + 1, skip: 0 });
        i += 2;
      } else {
        out.push({ kind: 'command-text', option: textOption, index: i, skip: textOption.length + 1 });
        i++;
      }
      continue;
    }
    if (spec.flags?.includes(w) || w.startsWith('--')) {
      if (spec.shellOptions?.includes(w)) shell = true;
      if (spec.noRun?.includes(w)) return out;
      i += spec.valued?.includes(w) ? 2 : 1;
      continue;
    }
    if (w.startsWith('-') && w.length > 1) {
      // Short options, possibly clustered (`sudo -iu root`): a letter that takes a value takes
      // the rest of the word, or the next word when it is the last letter.
      i++;
      for (let k = 1; k < w.length; k++) {
        const option = `-${w.charAt(k)}`;
        if (spec.shellOptions?.includes(option)) shell = true;
        if (spec.noRun?.includes(option)) return out;
        if (option === spec.positionalOption) positionals = 0;
        if (spec.valued?.includes(option)) {
          if (k === w.length - 1) i++;
          break;
        }
      }
      continue;
    }
    if (spec.assignments === true && /^[A-Za-z_][A-Za-z0-9_]*=/.test(w)) {
      out.push({ kind: 'assignment', index: i });
      i++;
      continue;
    }
    if (positionals > 0) {
      positionals--;
      i++;
      continue;
    }
    break;
  }
  const hasText = out.some((u) => u.kind === 'command-text');
  if (i < argv.length && spec.noCommand !== true) out.push({ kind: 'command', index: i });
  else if (shell && !hasText) out.push({ kind: 'shell' });
  return out;
}
