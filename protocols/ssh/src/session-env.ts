/**
 * What a client may put into the upstream session's environment: `LANG`, `LC_*` and `TERM` (the
 * pty request's terminal type too), with values shaped like locale and terminal names.
 *
 * The value matters as much as the name. The upstream shell can read these variables as code:
 * bash evaluates a variable named in arithmetic (`(( LC_X ))`, `[[ $LC_X -eq 0 ]]`) as an
 * expression, and an array subscript in it runs a command substitution, so
 * `LC_X='a[$(rm -rf ~)]' ssh -o SendEnv=LC_X gw '(( LC_X ))'` would run `rm` where the judged
 * command shows none. Locale and terminal names never need brackets, `$`, quotes or blanks.
 */
export const ENV_ALLOWED = /^(LANG|LC_[A-Z]+|TERM)$/;
/** `en_US.UTF-8`, `de_DE.UTF-8@euro`, `C`, `xterm-256color`, `screen.xterm-256color`. */
const VALUE_SHAPE = /^[A-Za-z0-9_.@+:,-]*$/;
export const MAX_ENV_VALUE = 1024;

/** Why the client may not set `key` to `value` upstream, or undefined when it may. */
export function envRefusal(key: string, value: unknown): string | undefined {
  if (!ENV_ALLOWED.test(key)) return 'only LANG, LC_* and TERM are passed';
  if (typeof value !== 'string') return 'the value is not text';
  if (value.length > MAX_ENV_VALUE) return `the value is longer than ${MAX_ENV_VALUE} characters`;
  if (!VALUE_SHAPE.test(value)) return 'the value is not a locale or terminal name';
  return undefined;
}

/** Whether a pty request's terminal type may be passed upstream (it becomes TERM). */
export function acceptableTerm(term: unknown): boolean {
  return typeof term === 'string' && envRefusal('TERM', term) === undefined;
}
