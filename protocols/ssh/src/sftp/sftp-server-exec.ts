import type { ShellParse } from '../shell/index.js';

/**
 * An exec that starts an SFTP server itself (`sftp -s /usr/lib/openssh/sftp-server host`, or
 * `ssh host /usr/lib/openssh/sftp-server`) speaks SFTP over an exec channel: the gateway would see
 * one command and none of the operations, so SFTP policy (a refused `sftp` channel, path rules for
 * writes and removes) would not hold. Such an exec is refused; the sftp subsystem, which the gateway
 * follows operation by operation, does the same work. Pure.
 */
const SFTP_SERVERS: ReadonlySet<string> = new Set(['sftp-server', 'gesftpserver', 'internal-sftp']);

const basename = (word: string): string => word.slice(word.lastIndexOf('/') + 1);

/** Why the exec is refused, or undefined when it starts no SFTP server. */
export function sftpServerExec(parse: ShellParse): string | undefined {
  // Any word, not only argv[0]: `exec sftp-server`, `sudo -u x /usr/lib/openssh/sftp-server`.
  const found = parse.commands.some((argv) => argv.some((word) => SFTP_SERVERS.has(basename(word))));
  return found ? 'an SFTP server started as a command cannot be judged' : undefined;
}
