import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const dist = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), '../dist/index.js')).href;

describe('closing the log in a process with nothing else to do', () => {
  it('waits for the writer thread and lets the process exit normally (not with 13, an unsettled await)', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'gatehouse-close-')), 'sessions.db');
    const script = `
      import { openSessionLog } from ${JSON.stringify(dist)};
      const log = openSessionLog({ path: ${JSON.stringify(path)} });
      await log.append({ sessionId: 's', type: 'session.start', data: {} });
      await log.recoverOpenSessions('gateway-restart');
      await log.close();
      console.log('closed');
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('closed');
    expect(run.status).toBe(0);
  });
});
