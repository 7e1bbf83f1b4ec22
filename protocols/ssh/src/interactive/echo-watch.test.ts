import { describe, expect, it } from 'vitest';
import { EchoWatch } from './echo-watch.js';

describe('echo watch', () => {
  it('sees echo when output followed the first key of the line', async () => {
    const w = new EchoWatch();
    w.output(); // the prompt, before typing
    w.typed(3);
    w.output();
    w.typed(2);
    expect(await w.lineEchoed(10)).toBe(true);
  });

  it('waits briefly for an echo that is still on its way', async () => {
    const w = new EchoWatch();
    w.typed(5);
    const pending = w.lineEchoed(1_000);
    setTimeout(() => w.output(), 5);
    expect(await pending).toBe(true);
  });

  it('reports a line typed without echo', async () => {
    const w = new EchoWatch();
    w.output();
    w.typed(8);
    expect(await w.lineEchoed(20)).toBe(false);
    // The next line starts afresh.
    w.typed(1);
    w.output();
    expect(await w.lineEchoed(20)).toBe(true);
  });

  it('treats a line with no forwarded keys as shown', async () => {
    expect(await new EchoWatch().lineEchoed(10)).toBe(true);
  });
});
