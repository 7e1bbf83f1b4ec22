import { describe, expect, it } from 'vitest';
import { LineTracker, type SubmittedLine } from './line-tracker.js';
import { DEFAULT_KILL_LINE, type LineVerdict, ShellGate } from './shell-gate.js';

interface Pending {
  line: SubmittedLine;
  signal: AbortSignal;
  answer: (v: LineVerdict) => void;
}

function bed(
  mode: 'terminal' | 'raw',
  rule: (text: string) => LineVerdict | 'hold' = () => ({ allow: true }),
) {
  const forwarded: Buffer[] = [];
  const kinds: string[] = [];
  const notices: string[] = [];
  const judged: SubmittedLine[] = [];
  const pending: Pending[] = [];
  const pauses: boolean[] = [];
  const gate = new ShellGate(
    new LineTracker({ mode }),
    {
      forward: (b, kind) => {
        forwarded.push(Buffer.from(b));
        kinds.push(kind);
      },
      notify: (t) => {
        notices.push(t);
      },
      judge: (line, signal) => {
        judged.push(line);
        const verdict = rule(line.text);
        if (verdict !== 'hold') return Promise.resolve(verdict);
        return new Promise((answer) => {
          pending.push({ line, signal, answer });
          signal.addEventListener('abort', () =>
            answer({ allow: false, message: 'cancelled', silent: true }),
          );
        });
      },
      backpressure: (p) => pauses.push(p),
    },
    { mode, maxBacklog: 16 },
  );
  const out = () => Buffer.concat(forwarded).toString('latin1');
  return { gate, forwarded, kinds, notices, judged, pending, pauses, out };
}

const tick = () => new Promise((r) => setImmediate(r));
const deny = (message: string): LineVerdict => ({ allow: false, message });

describe('shell gate: terminal', () => {
  it('forwards keys at once and the Enter only after the line is allowed', async () => {
    const b = bed('terminal', () => 'hold');
    b.gate.push(Buffer.from('ls -l\rpwd'));
    expect(b.out()).toBe('ls -l');
    expect(b.gate.holding).toBe(true);
    b.pending[0]?.answer({ allow: true });
    await tick();
    expect(b.out()).toBe('ls -l\rpwd');
    expect(b.judged.map((l) => l.text)).toEqual(['ls -l']);
  });

  it('erases a refused line upstream, tells the person, and forwards nothing of its Enter', async () => {
    const b = bed('terminal', (t) => (t.startsWith('rm') ? deny('no rm') : { allow: true }));
    b.gate.push(Buffer.from('rm -rf /x\rls\r'));
    await tick();
    await tick();
    expect(b.out()).toBe(`rm -rf /x${DEFAULT_KILL_LINE.toString('latin1')}ls\r`);
    expect(b.kinds).toEqual(['input', 'kill', 'input', 'submit']);
    expect(b.notices).toEqual(['no rm']);
  });

  it('does not judge empty lines', () => {
    const b = bed('terminal', () => 'hold');
    b.gate.push(Buffer.from('\r\r'));
    expect(b.out()).toBe('\r\r');
    expect(b.judged).toEqual([]);
  });

  it('judges an empty line recalled from history', () => {
    const b = bed('terminal', () => 'hold');
    b.gate.push(Buffer.from('\x1b[A\r'));
    expect(b.judged[0]).toMatchObject({ text: '', approximate: true, reasons: ['history'] });
  });

  it('holds what follows a refusal until the notice is out', async () => {
    const order: string[] = [];
    let release!: () => void;
    const gate = new ShellGate(
      new LineTracker({ mode: 'terminal' }),
      {
        forward: (b) => order.push(b.toString('latin1')),
        notify: () =>
          new Promise<void>((r) => {
            order.push('NOTICE');
            release = r;
          }),
        judge: async (line) => (line.text === 'bad' ? deny('no') : { allow: true }),
      },
      { mode: 'terminal' },
    );
    gate.push(Buffer.from('bad\rok\r'));
    await tick();
    await tick();
    expect(order).toEqual(['bad', DEFAULT_KILL_LINE.toString('latin1'), 'NOTICE']);
    release();
    await tick();
    await tick();
    expect(order.slice(3)).toEqual(['ok', '\r']);
  });

  it('Ctrl-C cancels a held line silently and reaches the shell', async () => {
    const b = bed('terminal', () => 'hold');
    b.gate.push(Buffer.from('sudo reboot\r'));
    b.gate.push(Buffer.from('\x03'));
    expect(b.pending[0]?.signal.aborted).toBe(true);
    await tick();
    await tick();
    expect(b.out()).toBe('sudo reboot\x03');
    expect(b.notices).toEqual([]);
  });

  it('keeps input typed while holding, in order, and asks the client to wait when it piles up', async () => {
    const b = bed('terminal', (t) => (t === 'first' ? 'hold' : { allow: true }));
    b.gate.push(Buffer.from('first\r'));
    b.gate.push(Buffer.from('second\r'));
    b.gate.push(Buffer.from('third and more\r'));
    expect(b.pauses).toEqual([true]);
    b.pending[0]?.answer({ allow: true });
    await tick();
    await tick();
    expect(b.out()).toBe('first\rsecond\rthird and more\r');
    expect(b.pauses).toEqual([true, false]);
  });

  it('erases an unsubmitted line at EOF', async () => {
    const b = bed('terminal');
    b.gate.push(Buffer.from('rm -rf /'));
    await b.gate.end();
    expect(b.out()).toBe(`rm -rf /${DEFAULT_KILL_LINE.toString('latin1')}`);
  });
});

describe('shell gate: raw (no pty)', () => {
  it('forwards a line only once it is allowed, and drops refused lines whole', async () => {
    const b = bed('raw', (t) => (t.startsWith('rm') ? deny('no rm') : { allow: true }));
    b.gate.push(Buffer.from('echo a\nrm -rf /x\necho b\n'));
    await tick();
    await tick();
    await tick();
    expect(b.out()).toBe('echo a\necho b\n');
    expect(b.notices).toEqual(['no rm']);
  });

  it('judges a last line without newline at EOF', async () => {
    const b = bed('raw', (t) => (t.startsWith('rm') ? deny('no rm') : { allow: true }));
    b.gate.push(Buffer.from('echo a\nrm -rf /x'));
    await b.gate.end();
    expect(b.out()).toBe('echo a\n');
    expect(b.judged.map((l) => l.text)).toEqual(['echo a', 'rm -rf /x']);
    const c = bed('raw');
    c.gate.push(Buffer.from('echo last'));
    await c.gate.end();
    expect(c.out()).toBe('echo last');
  });

  it('refuses a line too long to hold', async () => {
    const forwarded: Buffer[] = [];
    const judged: SubmittedLine[] = [];
    const gate = new ShellGate(
      new LineTracker({ mode: 'raw', maxLineChars: 1_000_000 }),
      {
        forward: (b) => forwarded.push(b),
        notify: () => {},
        judge: async (line) => {
          judged.push(line);
          return line.truncated ? deny('too long') : { allow: true };
        },
      },
      { mode: 'raw', maxLineBytes: 10 },
    );
    gate.push(Buffer.from('echo 0123456789abcdef\n'));
    await tick();
    expect(judged[0]?.truncated).toBe(true);
    expect(forwarded).toEqual([]);
  });
});
