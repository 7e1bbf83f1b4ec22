import { describe, expect, it } from 'vitest';
import { ChannelRecorder } from './recorder.js';

describe('channel recorder', () => {
  it('records up to the limit, counts everything, and reports the truncation once', () => {
    const recorded: [string, string][] = [];
    const truncated: number[] = [];
    const r = new ChannelRecorder(
      { output: (stream, data) => recorded.push([stream, data.toString()]) },
      10,
      (n) => truncated.push(n),
    );
    r.record('stdout', 'hello ');
    r.record('stderr', Buffer.from('world!!'));
    r.record('stdout', 'more');
    r.count('stdin', 3);
    expect(recorded).toEqual([
      ['stdout', 'hello '],
      ['stderr', 'worl'],
    ]);
    expect(truncated).toEqual([10]);
    expect(r.counts).toEqual({ stdin: 3, stdout: 10, stderr: 7 });
  });

  it('records everything without a limit', () => {
    const recorded: string[] = [];
    const r = new ChannelRecorder({ output: (_s, d) => recorded.push(d.toString()) }, undefined, () => {});
    r.record('stdout', 'x'.repeat(100_000));
    expect(recorded.join('').length).toBe(100_000);
  });
});
