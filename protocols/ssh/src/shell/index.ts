export {
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_LENGTH,
  parseShellCommand,
  type ShellParse,
  type ShellParseOptions,
} from './parse-shell-command.js';
