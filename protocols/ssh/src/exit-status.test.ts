import { describe, expect, it } from 'vitest';
import { exitAtClose, exitInfo, resultOf } from './exit-status.js';

const counts = { stdin: 0, stdout: 3, stderr: 0 };

describe('exitAtClose', () => {
  it('keeps the status the exit event reported', () => {
    expect(exitAtClose({ code: 3 }, [0])).toEqual({ code: 3 });
  });

  it("takes the status from the close event's arguments when the exit event came before the listener", () => {
    const exit = exitAtClose(undefined, [0]);
    expect(exit).toEqual({ code: 0 });
    expect(resultOf(exit, counts)).toMatchObject({ status: 'ok', summary: 'exit 0' });
  });

  it('takes a signal from the close event', () => {
    expect(exitAtClose(undefined, [null, 'SIGTERM', false, ''])).toEqual({ signal: 'SIGTERM', dump: false });
  });

  it('stays undefined when neither event carried a status', () => {
    const exit = exitAtClose(undefined, [undefined]);
    expect(exit).toBeUndefined();
    expect(resultOf(exit, counts).summary).toBe('closed without exit status');
  });

  it('reads exit arguments as ssh2 passes them', () => {
    expect(exitInfo([1])).toEqual({ code: 1 });
    expect(exitInfo([null, 'KILL', true, 'killed'])).toEqual({ signal: 'KILL', dump: true, desc: 'killed' });
  });
});
