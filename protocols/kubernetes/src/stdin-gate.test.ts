import { parseShellCommand } from '@gatehouse/ssh';
import { describe, expect, it } from 'vitest';
import { gateModeFor, readsShellInput } from './stdin-gate.js';

describe('which execs get their input judged line by line', () => {
  it('follows the shell parser on which programs read commands from stdin', () => {
    // The contract with the SSH parser's wording: should it change, this fails.
    expect(readsShellInput(parseShellCommand('sh'))).toBe(true);
    expect(readsShellInput(parseShellCommand('bash -s'))).toBe(true);
    expect(readsShellInput(parseShellCommand("sh -c 'echo hi'"))).toBe(false);
    expect(readsShellInput(parseShellCommand('cat'))).toBe(false);
  });

  it('gates every tty, and piped input only when a shell reads it', () => {
    const sh = parseShellCommand('sh');
    const cat = parseShellCommand('cat');
    expect(gateModeFor({ stdin: true, tty: true }, cat)).toBe('terminal');
    expect(gateModeFor({ stdin: true, tty: false }, sh)).toBe('raw');
    expect(gateModeFor({ stdin: true, tty: false }, cat)).toBeUndefined();
    expect(gateModeFor({ stdin: false, tty: false }, sh)).toBeUndefined();
  });
});
