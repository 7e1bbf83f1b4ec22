/**
 * Relays an exec, attach or port-forward WebSocket between the client and the cluster, message by
 * message, with backpressure both ways. For exec and attach the channel protocol is decoded as it
 * passes: stdout and stderr go through the masking detectors (output-masker.ts) before the client
 * sees them, and are recorded through `session.output` as the client saw them, so the log never
 * holds a value the client was not shown; stdin and resize events are recorded as they come, for
 * `gatehouse replay`; the Status on the status channel gives the exit code. Port-forward traffic
 * is counted, not recorded or masked.
 */
import type { IncomingMessage } from 'node:http';
import type { AgentOptions } from 'node:https';
import type { Duplex } from 'node:stream';
import type { GatewaySession, Masker } from '@gatehouse/core';
import type { ShellGate } from '@gatehouse/ssh';
import WebSocket, { WebSocketServer } from 'ws';
import { Channel, type ExitStatus, parseExitStatus, splitChannel } from './channel-protocol.js';
import { OutputMasker } from './output-masker.js';
import { createStdinGate, type GateMode, type LineJudge } from './stdin-gate.js';

export interface RelayInput {
  readonly req: IncomingMessage;
  readonly socket: Duplex;
  readonly head: Buffer;
  /** `wss://…` of the same request on the cluster. */
  readonly url: string;
  /** Subprotocols offered upstream (already limited to those the gateway understands). */
  readonly protocols: readonly string[];
  readonly headers: Readonly<Record<string, string>>;
  readonly tls: AgentOptions;
  readonly session: GatewaySession;
  /** Decode and record the channels (exec, attach); false for port forwarding. */
  readonly record: boolean;
  readonly handshakeTimeoutMs: number;
  readonly signal: AbortSignal;
  /** Judge what is typed or piped into a shell, line by line, before it reaches the process. */
  readonly gate?: { readonly mode: GateMode; readonly judge: LineJudge } | undefined;
  /** Masks stdout and stderr (exec, attach); undefined or without detectors: relayed as they are. */
  readonly masker?: Masker | undefined;
  /** How long output that may start a sensitive value waits for the rest (output-masker.ts). */
  readonly maskHoldMs?: number;
}

export interface RelayOutcome {
  /** 101 once relayed; otherwise the status the cluster (or the gateway) answered the upgrade with. */
  readonly status: number;
  readonly protocol?: string;
  readonly exit?: ExitStatus;
  readonly bytes: { stdin: number; stdout: number; stderr: number; other: number };
  readonly error?: { readonly code: string; readonly message: string };
}

const MAX_PAYLOAD = 32 * 1024 * 1024;
/** How long a refusal notice waits for the shell to redraw its prompt after the line is erased. */
const NOTICE_WAIT_MS = 200;
/** Messages in flight towards one side before the other side is paused. */
const HIGH_WATER = 64;
const MAX_ERROR_BODY = 64 * 1024;

/** Close codes that may be sent on (1005, 1006 and 1015 only ever describe a close). */
function sendableCode(code: number): number | undefined {
  if (
    (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
    (code >= 3000 && code <= 4999)
  ) {
    return code;
  }
  return undefined;
}

function closeWith(ws: WebSocket, code: number, reason: Buffer | string): void {
  if (ws.readyState === WebSocket.CLOSED || ws.readyState === WebSocket.CLOSING) return;
  const c = sendableCode(code);
  if (c === undefined) {
    ws.terminate();
    return;
  }
  const text = Buffer.from(reason).subarray(0, 123);
  ws.close(c, text);
}

export function relay(input: RelayInput): Promise<RelayOutcome> {
  const bytes = { stdin: 0, stdout: 0, stderr: 0, other: 0 };
  let exit: ExitStatus | undefined;
  return new Promise<RelayOutcome>((resolve) => {
    let settled = false;
    let accepted = false;
    const finish = (outcome: Omit<RelayOutcome, 'bytes'>) => {
      if (settled) return;
      settled = true;
      resolve({ ...outcome, bytes, ...(exit === undefined ? {} : { exit }) });
    };
    const upstream = new WebSocket(input.url, [...input.protocols], {
      ...input.tls,
      headers: { ...input.headers },
      perMessageDeflate: false,
      followRedirects: false,
      handshakeTimeout: input.handshakeTimeoutMs,
      maxPayload: MAX_PAYLOAD,
    });
    const onAbort = () => {
      closeWith(upstream, 1001, 'the gateway is shutting down');
      input.socket.destroy();
    };
    input.signal.addEventListener('abort', onAbort, { once: true });

    upstream.on('unexpected-response', (_req, res) => {
      // The cluster refused the upgrade (404 pod, 403, 400…): its Status goes back as it came.
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_ERROR_BODY) chunks.push(c);
      });
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        const status = res.statusCode ?? 502;
        const type = res.headers['content-type'] ?? 'application/json';
        input.socket.write(
          `HTTP/1.1 ${status} ${res.statusMessage ?? ''}\r\nContent-Type: ${type}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
        );
        input.socket.end(body);
        finish({
          status,
          error: { code: 'upstream_refused', message: `the cluster answered the upgrade with ${status}` },
        });
      });
      res.on('error', () => input.socket.destroy());
    });

    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (upstream.readyState === WebSocket.CONNECTING || !accepted) {
        const message = `the exec connection to the cluster failed (${err.code ?? err.message})`;
        const body = JSON.stringify({
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message,
          reason: 'BadGateway',
          code: 502,
        });
        input.socket.end(
          `HTTP/1.1 502 Bad Gateway\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
        finish({ status: 502, error: { code: 'upstream_error', message } });
      }
    });

    upstream.on('open', () => {
      const chosen = upstream.protocol;
      const server = new WebSocketServer({
        noServer: true,
        perMessageDeflate: false,
        maxPayload: MAX_PAYLOAD,
        handleProtocols: () => (chosen === '' ? false : chosen),
      });
      server.handleUpgrade(input.req, input.socket, input.head, (client) => {
        accepted = true;
        if (input.gate !== undefined) gate = stdinGate(input.gate.mode, input.gate.judge, client);
        pipe(client, upstream, (data) => inbound(data));
        toClient = pipe(upstream, client, (data) => outbound(data));
        let closes = 0;
        const closed = () => {
          closes++;
          if (closes === 2) {
            input.signal.removeEventListener('abort', onAbort);
            finish({ status: 101, protocol: chosen });
          }
        };
        client.on('close', (code, reason) => {
          gate?.close();
          for (const m of maskers.values()) m.discard();
          closeWith(upstream, code, reason);
          closed();
        });
        upstream.on('close', (code, reason) => {
          // Output still held for masking goes first.
          endOutput();
          closeWith(client, code, reason);
          closed();
        });
        client.on('error', () => upstream.terminate());
        upstream.on('error', () => client.terminate());
      });
    });

    let gate: ShellGate | undefined;
    let toClient: Forwarder | undefined;
    /** What the client is shown of stdout and stderr, and what is recorded of them. */
    const shown = (channel: number, payload: Buffer): void => {
      if (channel === Channel.Stdout) {
        bytes.stdout += payload.length;
        input.session.output('stdout', payload);
      } else {
        bytes.stderr += payload.length;
        input.session.output('stderr', payload);
      }
      toClient?.send(Buffer.concat([Buffer.from([channel]), payload]));
    };
    const maskers = new Map<number, OutputMasker>();
    if (input.record && input.masker !== undefined && input.masker.hasDetectors !== false) {
      for (const channel of [Channel.Stdout, Channel.Stderr]) {
        const masker = new OutputMasker(input.masker, (b) => shown(channel, b), input.maskHoldMs);
        maskers.set(channel, masker);
      }
    }
    const endOutput = (): void => {
      for (const m of maskers.values()) m.end();
    };
    /** Resolved by the next output of the process: the shell has redrawn after an erased line. */
    let nextOutput: (() => void) | undefined;
    const stdinGate = (mode: GateMode, judge: LineJudge, client: WebSocket): ShellGate =>
      createStdinGate(mode, judge, {
        forward: (bytes) => {
          if (upstream.readyState === WebSocket.OPEN)
            upstream.send(Buffer.concat([Buffer.from([Channel.Stdin]), bytes]));
        },
        notify: async (message) => {
          const tty = mode === 'terminal';
          if (tty) {
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, NOTICE_WAIT_MS);
              nextOutput = () => {
                clearTimeout(timer);
                setTimeout(resolve, 20);
              };
            });
          }
          const text = tty ? `\r\n[gatehouse] denied: ${message}\r\n` : `gatehouse: denied: ${message}\n`;
          const channel = tty ? Channel.Stdout : Channel.Stderr;
          // What the process printed before the notice is shown before it.
          maskers.get(channel)?.end();
          input.session.output(tty ? 'stdout' : 'stderr', text);
          if (client.readyState === WebSocket.OPEN) {
            client.send(Buffer.concat([Buffer.from([channel]), Buffer.from(text)]));
          }
        },
        backpressure: (paused) => (paused ? client.pause() : client.resume()),
      });

    /** Observes a client message; false when the gate takes it instead of the relay. */
    const inbound = (data: Buffer): boolean => {
      if (!input.record) {
        bytes.other += data.length;
        return true;
      }
      const m = splitChannel(data);
      if (m === undefined) return true;
      if (m.channel === Channel.Stdin) {
        bytes.stdin += m.payload.length;
        input.session.output('stdin', m.payload);
        if (gate !== undefined) {
          gate.push(m.payload);
          return false;
        }
      } else if (m.channel === Channel.Resize) {
        input.session.output('resize', m.payload.toString('utf8'));
      } else if (m.channel === Channel.Close && m.payload[0] === Channel.Stdin && gate !== undefined) {
        // stdin closes only after everything typed before it has been judged and forwarded.
        void gate.end().then(() => {
          if (upstream.readyState === WebSocket.OPEN) upstream.send(data);
        });
        return false;
      }
      return true;
    };
    const outbound = (data: Buffer): boolean => {
      if (!input.record) {
        bytes.other += data.length;
        return true;
      }
      const m = splitChannel(data);
      if (m === undefined) return true;
      if (m.channel === Channel.Stdout || m.channel === Channel.Stderr) {
        const wake = nextOutput;
        nextOutput = undefined;
        wake?.();
      }
      if (m.channel === Channel.Stdout || m.channel === Channel.Stderr) {
        const masker = maskers.get(m.channel);
        if (masker === undefined) {
          if (m.channel === Channel.Stdout) bytes.stdout += m.payload.length;
          else bytes.stderr += m.payload.length;
          input.session.output(m.channel === Channel.Stdout ? 'stdout' : 'stderr', m.payload);
          return true;
        }
        masker.push(m.payload);
        return false;
      }
      if (m.channel === Channel.Status) {
        // The process has ended: all of its output reaches the client before its exit status.
        endOutput();
        exit = parseExitStatus(m.payload);
      }
      return true;
    };
  });
}

/** Sends messages to `to`, pausing `from` while `to` has too many in flight. */
class Forwarder {
  #inFlight = 0;
  #paused = false;

  constructor(
    readonly from: WebSocket,
    readonly to: WebSocket,
  ) {}

  send(data: Buffer, binary = true): void {
    if (this.to.readyState !== WebSocket.OPEN) return;
    this.#inFlight++;
    this.to.send(data, { binary }, () => {
      this.#inFlight--;
      if (this.#paused && this.#inFlight <= HIGH_WATER / 2) {
        this.#paused = false;
        this.from.resume();
      }
    });
    if (!this.#paused && this.#inFlight >= HIGH_WATER) {
      this.#paused = true;
      this.from.pause();
    }
  }
}

/** Forwards every message of `from` to `to` that `observe` lets through (it may send its own). */
function pipe(from: WebSocket, to: WebSocket, observe: (data: Buffer) => boolean): Forwarder {
  const forwarder = new Forwarder(from, to);
  from.on('message', (data: Buffer, isBinary: boolean) => {
    if (observe(data)) forwarder.send(data, isBinary);
  });
  return forwarder;
}
