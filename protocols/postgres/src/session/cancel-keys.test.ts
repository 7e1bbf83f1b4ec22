import { describe, expect, it } from 'vitest';
import { CancelKeyRegistry, type CancelTarget } from './cancel-keys.js';

const target = (connection: string): CancelTarget => ({ connection, cancel: async () => undefined });

describe('CancelKeyRegistry', () => {
  it('maps its own keys to the session, on the same connection only', () => {
    const keys = new CancelKeyRegistry();
    const t = target('shop');
    const issued = keys.issue(t);
    expect(issued.processId).toBeGreaterThan(0);
    expect(issued.secretKey).toHaveLength(4);
    expect(keys.find('shop', issued.processId, issued.secretKey)).toBe(t);
    expect(keys.find('other', issued.processId, issued.secretKey)).toBeUndefined();
  });

  it('drops unknown process ids, wrong secrets and released keys', () => {
    const keys = new CancelKeyRegistry();
    const issued = keys.issue(target('shop'));
    const wrong = Buffer.from(issued.secretKey);
    wrong[0] = wrong[0]! ^ 0xff;
    expect(keys.find('shop', issued.processId, wrong)).toBeUndefined();
    expect(
      keys.find('shop', issued.processId, Buffer.concat([issued.secretKey, Buffer.alloc(1)])),
    ).toBeUndefined();
    expect(keys.find('shop', issued.processId + 1, issued.secretKey)).toBeUndefined();
    issued.release();
    expect(keys.find('shop', issued.processId, issued.secretKey)).toBeUndefined();
    expect(keys.size).toBe(0);
  });

  it('gives every live session a distinct process id', () => {
    const keys = new CancelKeyRegistry();
    const ids = new Set(Array.from({ length: 500 }, () => keys.issue(target('shop')).processId));
    expect(ids.size).toBe(500);
  });
});
