import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventType } from '@gatehouse/core';
import { afterEach, describe, expect, it } from 'vitest';
import { openSessionLog } from './session-log.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Every byte the log put on disk: database, WAL, shared memory, anchor. */
function bytesOnDisk(dir: string): Buffer {
  // The anchor is rewritten through a temporary file in the background: a name listed a moment ago
  // may be gone by the time it is read.
  const parts: Buffer[] = [];
  for (const name of readdirSync(dir)) {
    try {
      parts.push(readFileSync(join(dir, name)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return Buffer.concat(parts);
}

describe('secrets on disk', () => {
  it('never writes a secret, whether in the WAL or after checkpoint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-log-redact-'));
    dirs.push(dir);
    const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZ2VudC0xIn0.c2lnbmF0dXJlLXZhbHVl';
    const password = 'Tr0ub4dor&3-correct-horse';
    const log = openSessionLog({ path: join(dir, 'log.db') });
    await log.append({
      sessionId: 's',
      type: EventType.Auth,
      data: {
        method: 'password',
        outcome: 'failure',
        reason: `bad token ${token}`,
        raw: { [token]: [token] },
      },
      secrets: [token],
    });
    await log.append({
      sessionId: 's',
      type: EventType.Command,
      data: { kind: 'query', text: `CREATE ROLE app LOGIN PASSWORD '${password}'`, attributes: { password } },
      secrets: [password, token],
    });
    // Before close the events live in the WAL file.
    expect(existsSync(join(dir, 'log.db-wal'))).toBe(true);
    let bytes = bytesOnDisk(dir);
    expect(bytes.includes('[REDACTED]')).toBe(true);
    for (const secret of [token, password]) {
      expect(bytes.includes(secret)).toBe(false);
      expect(bytes.includes(Buffer.from(secret, 'utf16le'))).toBe(false);
    }
    await log.close();
    bytes = bytesOnDisk(dir);
    for (const secret of [token, password]) expect(bytes.includes(secret)).toBe(false);
  });
});
