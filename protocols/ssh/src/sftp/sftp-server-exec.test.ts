import { describe, expect, it } from 'vitest';
import { parseShellCommand } from '../shell/index.js';
import { sftpServerExec } from './sftp-server-exec.js';

describe('sftpServerExec', () => {
  it.each([
    '/usr/lib/openssh/sftp-server',
    'sftp-server -e -l DEBUG3',
    'exec /usr/lib/openssh/sftp-server',
    "sh -c '/usr/lib/sftp-server'",
    'sudo -u root /usr/libexec/openssh/sftp-server',
    'cd /tmp && /usr/lib/openssh/sftp-server -d /etc',
    '/usr/lib/gesftpserver',
  ])('refuses %j', (text) => {
    expect(sftpServerExec(parseShellCommand(text))).toBe(
      'an SFTP server started as a command cannot be judged',
    );
  });

  it.each(['ls /usr/lib/openssh', 'sftp-server-stats', 'echo sftp', 'cat sftp-server.log'])(
    'leaves %j alone',
    (text) => {
      expect(sftpServerExec(parseShellCommand(text))).toBeUndefined();
    },
  );
});
