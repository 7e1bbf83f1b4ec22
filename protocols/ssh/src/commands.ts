import type { Command } from '@gatehouse/core';
import { type SshChannel, sshCommand } from '@gatehouse/policy';
import type { SubmittedLine } from './interactive/line-tracker.js';
import type { ShellParse } from './shell/index.js';

/**
 * The commands this module hands to policy. Beyond `SshCommandAttributes`, attributes say when the
 * parse could not determine everything that runs (`opaque`, with reasons) and when an interactive
 * line was reconstructed approximately (`approximate`, with reasons); matchers that do not know
 * these keys ignore them, and the log keeps them.
 */

function parseFacts(parse: ShellParse): Record<string, unknown> {
  return parse.opaque ? { opaque: true, opaqueReasons: parse.reasons } : {};
}

export function execCommand(text: string, parse: ShellParse): Command {
  const base = sshCommand('exec', text, { channel: 'exec', commands: parse.commands });
  return { ...base, attributes: { ...base.attributes, ...parseFacts(parse) } };
}

export function shellLineCommand(line: SubmittedLine, parse: ShellParse, channel: 'shell' | 'exec'): Command {
  const base = sshCommand('shell-line', line.text, { channel, commands: parse.commands });
  return {
    ...base,
    attributes: {
      ...base.attributes,
      ...parseFacts(parse),
      ...(line.approximate ? { approximate: true, approximateReasons: line.reasons } : {}),
      ...(line.pasted ? { pasted: true } : {}),
    },
  };
}

export function channelCommand(channel: SshChannel, text: string, destination?: string): Command {
  return sshCommand('channel', text, { channel, ...(destination === undefined ? {} : { destination }) });
}

/** `host:port`, with brackets around IPv6 literals. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

const SHELL_READS_SESSION = "reads commands from the session's standard input";

/**
 * Whether a shell in an exec command reads its commands from the channel's input (`bash -s`,
 * `sh < /dev/stdin`, a bare `sh`). The parser says so only in its reasons, so the text is matched
 * here, in one place; the e2e test "a shell reading an exec channel's input" fails should it change.
 */
export function readsShellInput(parse: ShellParse): boolean {
  return parse.reasons.some((r) => r.endsWith(SHELL_READS_SESSION));
}
