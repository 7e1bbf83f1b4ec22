/**
 * OpenSSH `scp` through the gateway to a real sshd, both ways: the default SFTP protocol (each
 * open judged as an SFTP operation) and the legacy protocol over exec (`scp -O`), whose exec
 * command is judged and whose files are judged one by one like the SFTP operations they amount
 * to, so the same path rules hold whichever protocol the client picks.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StoredEvent } from '@gatehouse/core';
import { MemorySessionLog } from '@gatehouse/session-log';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataOf, endedSession, type SshGateway, startSshGateway } from './support/ssh-gateway.js';

let gw: SshGateway;
let log: MemorySessionLog;
/** A directory of the upstream account's, for the transfers. */
let remote: string;
let local: string;

const since = () => log.events.at(-1)?.seq ?? 0;

function chownToUser(path: string): void {
  execFileSync('chown', ['-R', `${gw.sshd.user}:${gw.sshd.user}`, path]);
}

function scp(args: string[]) {
  return gw.run('scp', [...gw.clientOptions(), '-P', String(gw.port), ...args]);
}

const at = (path: string) => `deploy@127.0.0.1:${path}`;

const sftpOps = (events: StoredEvent[]) =>
  dataOf(events, 'command')
    .filter((c) => c['kind'] === 'sftp')
    .map((c) => c['attributes'] as Record<string, unknown>);

beforeAll(async () => {
  log = new MemorySessionLog();
  gw = await startSshGateway({
    log,
    rules: [
      {
        id: 'locked-read-only',
        action: 'deny',
        message: 'the locked directory is read-only',
        shell: { sftpOps: ['write', 'mkdir', 'remove', 'rename', 'setstat'], paths: ['**/locked/**'] },
      },
      {
        id: 'no-secrets',
        action: 'deny',
        message: 'secrets stay on the host',
        shell: { sftpOps: ['read', 'write'], paths: ['**/secret*'] },
      },
    ],
  });
  remote = join(gw.sshd.home, `scp-${process.pid}`);
  mkdirSync(join(remote, 'locked'), { recursive: true });
  mkdirSync(join(remote, 'tree', 'sub'), { recursive: true });
  writeFileSync(join(remote, 'tree', 'a.txt'), 'alpha\n');
  writeFileSync(join(remote, 'tree', 'sub', 'b.txt'), 'beta\n');
  writeFileSync(join(remote, 'tree', 'sub', 'secret.key'), 'do not copy\n');
  chownToUser(remote);
  local = join(gw.work, 'local');
  mkdirSync(local);
});

afterAll(async () => {
  await gw?.stop();
  if (remote !== undefined) rmSync(remote, { recursive: true, force: true });
});

describe('scp (SFTP protocol, the OpenSSH default)', () => {
  it('uploads and downloads through the gateway, each file an audited SFTP operation', async () => {
    const content = randomBytes(2 * 1024 * 1024 + 3);
    writeFileSync(join(local, 'up.bin'), content);
    const mark = since();
    const up = await scp([join(local, 'up.bin'), at(`${remote}/up.bin`)]);
    expect(up, up.stderr).toMatchObject({ code: 0 });
    expect(readFileSync(join(remote, 'up.bin')).equals(content)).toBe(true);
    const upEvents = await endedSession(log, mark);
    expect(dataOf(upEvents, 'command')).toContainEqual(expect.objectContaining({ text: 'subsystem sftp' }));
    expect(sftpOps(upEvents)).toContainEqual(
      expect.objectContaining({ sftpOp: 'write', path: `${remote}/up.bin` }),
    );

    const mark2 = since();
    const down = await scp([at(`${remote}/up.bin`), join(local, 'down.bin')]);
    expect(down, down.stderr).toMatchObject({ code: 0 });
    expect(readFileSync(join(local, 'down.bin')).equals(content)).toBe(true);
    const downEvents = await endedSession(log, mark2);
    expect(sftpOps(downEvents)).toContainEqual(
      expect.objectContaining({ sftpOp: 'read', path: `${remote}/up.bin` }),
    );
    expect(dataOf(downEvents, 'result')).toContainEqual(
      expect.objectContaining({ data: { bytesRead: content.length, bytesWritten: 0 } }),
    );
  });

  it('refuses a write that a path rule denies; nothing is created', async () => {
    writeFileSync(join(local, 'note.txt'), 'hello\n');
    const mark = since();
    const r = await scp([join(local, 'note.txt'), at(`${remote}/locked/note.txt`)]);
    expect(r.code).not.toBe(0);
    // OpenSSH's scp shows the SFTP status code, not the gateway's message (the log has the rule).
    expect(r.stderr).toContain(`scp: dest open "${remote}/locked/note.txt": Permission denied`);
    expect(existsSync(join(remote, 'locked', 'note.txt'))).toBe(false);
    const events = await endedSession(log, mark);
    expect(dataOf(events, 'decision')).toContainEqual(
      expect.objectContaining({ action: 'deny', rule: 'locked-read-only' }),
    );
  });
});

describe('scp -O (the legacy protocol over exec)', () => {
  it('uploads: the exec is judged as a command and the file as an SFTP write', async () => {
    const content = randomBytes(3 * 1024 * 1024 + 11);
    writeFileSync(join(local, 'legacy.bin'), content);
    const mark = since();
    const r = await scp(['-O', join(local, 'legacy.bin'), at(`${remote}/legacy.bin`)]);
    expect(r, r.stderr).toMatchObject({ code: 0 });
    expect(readFileSync(join(remote, 'legacy.bin')).equals(content)).toBe(true);
    const events = await endedSession(log, mark);
    const commands = dataOf(events, 'command');
    expect(commands).toContainEqual(
      expect.objectContaining({
        kind: 'exec',
        text: `scp -t ${remote}/legacy.bin`,
        attributes: expect.objectContaining({ commands: [['scp', '-t', `${remote}/legacy.bin`]] }),
      }),
    );
    // One source, no -d: the file may land at the target or inside it, so both are judged.
    expect(sftpOps(events)).toEqual([
      { channel: 'sftp', sftpOp: 'write', path: `${remote}/legacy.bin`, via: 'scp' },
      { channel: 'sftp', sftpOp: 'write', path: `${remote}/legacy.bin/legacy.bin`, via: 'scp' },
    ]);
    expect(dataOf(events, 'result')).toContainEqual(
      expect.objectContaining({ summary: 'closed', data: { bytesRead: 0, bytesWritten: content.length } }),
    );
    // File content is counted, not recorded as terminal output.
    const recorded = dataOf(events, 'output').reduce((n, o) => n + String(o['data'] ?? '').length, 0);
    expect(recorded).toBeLessThan(1000);
  });

  it('refuses the files a path rule denies and copies the rest', async () => {
    writeFileSync(join(local, 'ok.txt'), 'fine\n');
    writeFileSync(join(local, 'secret.txt'), 'hush\n');
    const mark = since();
    const r = await scp(['-O', join(local, 'ok.txt'), join(local, 'secret.txt'), at(`${remote}/`)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('scp: gatehouse: denied: secrets stay on the host (rule no-secrets)');
    expect(readFileSync(join(remote, 'ok.txt'), 'utf8')).toBe('fine\n');
    expect(existsSync(join(remote, 'secret.txt'))).toBe(false);
    const events = await endedSession(log, mark);
    expect(dataOf(events, 'decision')).toContainEqual(
      expect.objectContaining({ action: 'deny', rule: 'no-secrets' }),
    );
    expect(sftpOps(events).map((a) => `${a['sftpOp']} ${a['path']}`)).toEqual([
      `write ${remote}/ok.txt`,
      `write ${remote}/secret.txt`,
    ]);

    const locked = await scp(['-O', join(local, 'ok.txt'), at(`${remote}/locked/`)]);
    expect(locked.code).toBe(1);
    expect(locked.stderr).toContain('gatehouse: denied: the locked directory is read-only');
    expect(existsSync(join(remote, 'locked', 'ok.txt'))).toBe(false);
  });

  it('downloads a tree, judging every entry the host sends as an SFTP read', async () => {
    const into = join(local, 'copy');
    const mark = since();
    const r = await scp(['-O', '-r', at(`${remote}/tree`), into]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('gatehouse: denied: secrets stay on the host (rule no-secrets)');
    expect(readFileSync(join(into, 'a.txt'), 'utf8')).toBe('alpha\n');
    expect(readFileSync(join(into, 'sub', 'b.txt'), 'utf8')).toBe('beta\n');
    expect(existsSync(join(into, 'sub', 'secret.key'))).toBe(false);
    const events = await endedSession(log, mark);
    const ops = sftpOps(events).map((a) => `${a['sftpOp']} ${a['path']}`);
    expect(ops).toEqual(
      expect.arrayContaining([
        `read ${remote}/tree`,
        `read ${remote}/tree/a.txt`,
        `opendir ${remote}/tree/sub`,
        `read ${remote}/tree/sub/b.txt`,
        `read ${remote}/tree/sub/secret.key`,
      ]),
    );
  });

  it('refuses a download the rules deny before the host sends anything', async () => {
    const mark = since();
    const r = await scp(['-O', at(`${remote}/tree/sub/secret.key`), join(local, 'stolen.key')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('gatehouse: denied: secrets stay on the host');
    expect(existsSync(join(local, 'stolen.key'))).toBe(false);
    const events = await endedSession(log, mark);
    expect(dataOf(events, 'result').filter((x) => x['summary'] === 'exit 0')).toEqual([]);
  });

  it('refuses scp in remote mode that it cannot follow (inside a list, other options)', async () => {
    for (const command of [`cd ${remote} && scp -t .`, `scp -S /bin/sh -t ${remote}/x`]) {
      const r = await gw.run('ssh', [
        ...gw.clientOptions(),
        '-p',
        String(gw.port),
        'deploy@127.0.0.1',
        command,
      ]);
      expect(r.code, command).toBe(126);
      expect(r.stderr).toContain('gatehouse: denied:');
      expect(r.stderr).toContain('(use sftp, or scp without -O)');
    }
  });
});
