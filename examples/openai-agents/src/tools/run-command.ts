import { tool } from '@openai/agents';
import ssh2 from 'ssh2';
import { z } from 'zod';
import type { SshEndpoint } from '../settings.js';
import type { TokenProvider } from '../token-provider.js';
import { clip, errorText, refusalKind } from '../tool-output.js';
import { hostKeyMatcher } from './host-key.js';

const { Client } = ssh2;

/** Exit status of an exec that Gatehouse refused (like a shell's "found but not executable"). */
const REFUSED_EXIT = 126;
const MAX_STREAM_BYTES = 64 * 1024;

/**
 * `run_command`: an ssh2 client that logs in to the gateway's SSH listener with the Gatehouse
 * token as the password (or as the keyboard-interactive answer) and runs one exec per call. The
 * gateway pins the real host and logs in there with its own key; the agent never learns it.
 */
export function runCommandTool(endpoint: SshEndpoint, tokens: TokenProvider) {
  const hostVerifier = hostKeyMatcher(endpoint.hostKey);
  return tool({
    name: 'run_command',
    description:
      `Run a shell command on the host behind the Gatehouse SSH gateway (as ${endpoint.user}). ` +
      'Returns the exit status, stdout and stderr. Gatehouse may refuse a command, or hold it until a human approves it.',
    parameters: z.object({ command: z.string().describe('A shell command line') }),
    execute: async ({ command }) => {
      try {
        const token = await tokens.token();
        return clip(formatExec(await exec(endpoint, token, hostVerifier, command)));
      } catch (err) {
        return `The command could not be run through Gatehouse: ${errorText(err)}`;
      }
    },
  });
}

interface ExecResult {
  code: number | null;
  signal?: string | undefined;
  stdout: string;
  stderr: string;
}

function exec(
  endpoint: SshEndpoint,
  token: string,
  hostVerifier: (key: Buffer) => boolean,
  command: string,
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const conn = new Client();
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      conn.end();
      reject(err);
    };
    conn.on('keyboard-interactive', (_name, _instructions, _lang, prompts, finish) => {
      finish(prompts.map(() => token));
    });
    conn.on('error', fail);
    conn.on('ready', () => {
      conn.exec(command, (err, stream) => {
        if (err) return fail(err);
        const stdout = new Capture();
        const stderr = new Capture();
        let code: number | null = null;
        let signal: string | undefined;
        stream.on('data', (d: Buffer) => stdout.push(d));
        stream.stderr.on('data', (d: Buffer) => stderr.push(d));
        stream.on('exit', (c: number | null, s?: string) => {
          code = c;
          signal = s;
        });
        stream.on('close', () => {
          settled = true;
          conn.end();
          resolve({ code, signal, stdout: stdout.text(), stderr: stderr.text() });
        });
      });
    });
    conn.connect({
      host: endpoint.host,
      port: endpoint.port,
      username: endpoint.user,
      password: token,
      tryKeyboard: true,
      hostVerifier,
      readyTimeout: 30_000,
    });
  });
}

class Capture {
  readonly #chunks: Buffer[] = [];
  #size = 0;
  #dropped = 0;

  push(chunk: Buffer): void {
    const room = MAX_STREAM_BYTES - this.#size;
    if (room <= 0) {
      this.#dropped += chunk.length;
      return;
    }
    const kept = chunk.subarray(0, room);
    this.#chunks.push(kept);
    this.#size += kept.length;
    this.#dropped += chunk.length - kept.length;
  }

  text(): string {
    const text = Buffer.concat(this.#chunks).toString('utf8');
    return this.#dropped > 0 ? `${text}\n… (${this.#dropped} more bytes not shown)` : text;
  }
}

function formatExec(result: ExecResult): string {
  const status =
    result.code !== null ? `exit status ${result.code}` : `killed by signal ${result.signal ?? 'unknown'}`;
  const refused =
    result.code === REFUSED_EXIT ? refusalKind(result.stderr.trim().split('\n')[0] ?? '') : undefined;
  return [
    refused === undefined ? status : `${status}: the command was not run: ${refused}`,
    `stdout:\n${result.stdout}`,
    `stderr:\n${result.stderr}`,
  ].join('\n');
}
