import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readAnchor } from './anchor.js';
import { AnchorWriter } from './anchor-writer.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function anchorPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-anchor-'));
  dirs.push(dir);
  return join(dir, 'log.db.anchor');
}

const key = Buffer.alloc(32, 7);
const hash = (n: number) => n.toString(16).padStart(64, '0');

describe('AnchorWriter', () => {
  it('writes the newest head, collapsing heads that arrive while it waits out its interval', async () => {
    const path = anchorPath();
    const results: unknown[] = [];
    const writer = new AnchorWriter(path, key, false, (err) => results.push(err), 60);
    writer.update(1, hash(1));
    await new Promise((resolve) => setTimeout(resolve, 20));
    // The first write is done; these fall inside the interval and collapse into one write.
    for (let seq = 2; seq <= 50; seq++) writer.update(seq, hash(seq));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(results).toEqual([undefined, undefined]);
    expect(readAnchor(path)).toMatchObject({ seq: 50, hash: hash(50) });
  });

  it('writes at once when asked to become idle, without waiting out the interval', async () => {
    const path = anchorPath();
    const writer = new AnchorWriter(path, key, false, () => {}, 60_000);
    writer.update(1, hash(1));
    await writer.idle();
    writer.update(2, hash(2));
    // Waiting out a minute would fail the test by its timeout.
    await writer.idle();
    expect(readAnchor(path)).toMatchObject({ seq: 2, hash: hash(2) });
  });
});
