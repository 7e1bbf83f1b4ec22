/**
 * Variables whose value changes which program runs or makes the shell run hidden code. Setting one
 * makes the result opaque: after `PATH=/tmp/x ls` or `LD_PRELOAD=… ls`, `ls` is not the `ls` policy
 * thinks it is, and `BASH_ENV`/`ENV`/`PROMPT_COMMAND`/`PS*` hold commands the shell runs itself.
 */
const SENSITIVE: ReadonlySet<string> = new Set([
  'IFS',
  'PATH',
  'BASH_ENV',
  'ENV',
  'PROMPT_COMMAND',
  'PS0',
  'PS1',
  'PS2',
  'PS4',
  'SHELLOPTS',
  'BASHOPTS',
  'LD_PRELOAD',
  'LD_AUDIT',
]);

/** Why assigning `name` makes the line opaque, or undefined when it does not. */
export function sensitiveVariable(name: string): string | undefined {
  if (SENSITIVE.has(name)) return `sets ${name}, which changes what runs`;
  // Bash imports functions from variables named BASH_FUNC_name%% (`env 'BASH_FUNC_ls%%=() { …; }'`).
  if (name.startsWith('BASH_FUNC_')) return `sets ${name}, which defines a shell function`;
  return undefined;
}

/** The variable name of a `NAME=value` (or `NAME+=value`, `NAME[i]=value`) argument. */
export function assignmentTarget(arg: string): string | undefined {
  return /^([^=[+]+)(?:\[[^\]]*\])?\+?=/.exec(arg)?.[1];
}

/** Builtins whose `NAME=value` arguments assign variables. */
export const DECLARATION_BUILTINS: ReadonlySet<string> = new Set([
  'export',
  'declare',
  'typeset',
  'local',
  'readonly',
]);
