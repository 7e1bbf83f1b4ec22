import type { Command } from '@gatehouse/core';
import { sshCommand } from '@gatehouse/policy';
import { FX, OPEN_FLAGS, type SftpRequest } from './sftp-codec.js';

/** One audited operation: what policy sees for it. */
export interface Operation {
  readonly op: string;
  readonly path: string;
  readonly text: string;
  readonly extra?: Readonly<Record<string, unknown>>;
}

export type Plan =
  | { readonly action: 'forward' }
  | { readonly action: 'judge'; readonly operations: readonly Operation[] }
  | { readonly action: 'refuse'; readonly code: number; readonly message: string };

/** Extensions that read or describe without changing anything: forwarded unjudged. */
const PASSTHROUGH_EXTENSIONS = new Set([
  'statvfs@openssh.com',
  'fstatvfs@openssh.com',
  'fsync@openssh.com',
  'limits@openssh.com',
  'expand-path@openssh.com',
  'home-directory',
  'users-groups-by-id@openssh.com',
]);

/**
 * What the relay does with one request: forward it, judge its operations first, or refuse it.
 * `pathOf` gives the path an open handle was opened with.
 */
export function planRequest(
  request: SftpRequest,
  pathOf: (handle: string) => string | undefined,
  refuseNote: (name: string) => void,
): Plan {
  const judged = (...operations: Operation[]): Plan => ({ action: 'judge', operations });
  switch (request.type) {
    case 'open': {
      const flags = openFlagNames(request.flags);
      const writes = flags.some((f) => f !== 'read');
      const op = writes ? 'write' : 'read';
      return judged({
        op,
        path: request.path,
        text: `open ${request.path} (${flags.join(',')})`,
        extra: { openFlags: flags },
      });
    }
    case 'opendir':
    case 'remove':
    case 'rmdir':
    case 'mkdir':
    case 'setstat':
      return judged({ op: request.type, path: request.path, text: `${request.type} ${request.path}` });
    case 'rename':
      return judged(...renameOperations('rename', request.from, request.to));
    case 'symlink':
      // OpenSSH's order: the link is created at the second path, pointing at the first.
      return judged({
        op: 'symlink',
        path: request.second,
        text: `symlink ${request.second} -> ${request.first}`,
        extra: { targetPath: request.first },
      });
    case 'fsetstat': {
      const path = pathOf(request.handle);
      if (path === undefined) return { action: 'forward' };
      return judged({ op: 'setstat', path, text: `setstat ${path}` });
    }
    case 'extended':
      return planExtended(request, pathOf, refuseNote);
    case 'unknown':
      return {
        action: 'refuse',
        code: FX.OP_UNSUPPORTED,
        message: `gatehouse: SFTP request type ${request.code} is not supported`,
      };
    default:
      return { action: 'forward' };
  }
}

function planExtended(
  request: Extract<SftpRequest, { type: 'extended' }>,
  pathOf: (handle: string) => string | undefined,
  refuseNote: (name: string) => void,
): Plan {
  const { name, body } = request;
  if (PASSTHROUGH_EXTENSIONS.has(name)) return { action: 'forward' };
  if (name === 'posix-rename@openssh.com' && body.kind === 'two-paths') {
    return { action: 'judge', operations: renameOperations('rename', body.from, body.to) };
  }
  if (name === 'hardlink@openssh.com' && body.kind === 'two-paths') {
    return {
      action: 'judge',
      operations: [
        {
          op: 'hardlink',
          path: body.to,
          text: `hardlink ${body.to} -> ${body.from}`,
          extra: { targetPath: body.from },
        },
      ],
    };
  }
  if (name === 'lsetstat@openssh.com' && body.kind === 'path') {
    return {
      action: 'judge',
      operations: [{ op: 'setstat', path: body.path, text: `setstat ${body.path}` }],
    };
  }
  if (name === 'copy-data' && body.kind === 'copy-data') {
    const targetPath = pathOf(body.writeHandle);
    const sourcePath = pathOf(body.readHandle);
    if (targetPath === undefined) return { action: 'forward' };
    return {
      action: 'judge',
      operations: [
        {
          op: 'write',
          path: targetPath,
          text: `copy-data ${sourcePath ?? '?'} -> ${targetPath}`,
          ...(sourcePath === undefined ? {} : { extra: { sourcePath } }),
        },
      ],
    };
  }
  refuseNote(name);
  return {
    action: 'refuse',
    code: FX.OP_UNSUPPORTED,
    message: `gatehouse: SFTP extension ${name} is not supported`,
  };
}

function renameOperations(op: string, from: string, to: string): Operation[] {
  // Moving a file away changes its old path, moving it in changes the new one: both are judged.
  return [
    { op, path: from, text: `${op} ${from} ${to}`, extra: { targetPath: to } },
    { op, path: to, text: `${op} ${from} ${to} (target)`, extra: { sourcePath: from } },
  ];
}

function openFlagNames(flags: number): string[] {
  const names: string[] = [];
  if (flags & OPEN_FLAGS.READ) names.push('read');
  if (flags & OPEN_FLAGS.WRITE) names.push('write');
  if (flags & OPEN_FLAGS.APPEND) names.push('append');
  if (flags & OPEN_FLAGS.CREAT) names.push('create');
  if (flags & OPEN_FLAGS.TRUNC) names.push('truncate');
  if (flags & OPEN_FLAGS.EXCL) names.push('exclusive');
  if (names.length === 0) names.push('read');
  return names;
}

export function sftpCommand(operation: Operation): Command {
  const base = sshCommand('sftp', operation.text, {
    channel: 'sftp',
    sftpOp: operation.op,
    path: operation.path,
  });
  return operation.extra === undefined
    ? base
    : { ...base, attributes: { ...base.attributes, ...operation.extra } };
}
