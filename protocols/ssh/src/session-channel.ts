import { type CommandResult, type CommandTicket, toGatewayError } from '@gatehouse/core';
import type { ClientChannel, PseudoTtyInfo, PseudoTtyOptions, ServerChannel, Session } from 'ssh2';
import { type ChannelHost, EXIT_DENIED, EXIT_GATEWAY, type LiveChannel } from './channel-host.js';
import { Outbox, PauseSet, relay } from './channel-io.js';
import { channelCommand, execCommand, readsShellInput, shellLineCommand } from './commands.js';
import { type ExitInfo, exitAtClose, exitInfo, resultOf, sendExit } from './exit-status.js';
import { EchoWatch } from './interactive/echo-watch.js';
import { LineTracker, type SubmittedLine } from './interactive/line-tracker.js';
import { type LineVerdict, ShellGate } from './interactive/shell-gate.js';
import { judge, printable } from './judge.js';
import { ChannelRecorder } from './recorder.js';
import { type LegacyScp, recognizeLegacyScp } from './scp/scp-command.js';
import { judgeScpStart, ScpRelay } from './scp/scp-relay.js';
import { acceptableTerm, ENV_ALLOWED, envRefusal } from './session-env.js';
import { SftpRelay } from './sftp/sftp-relay.js';
import { sftpServerExec } from './sftp/sftp-server-exec.js';
import { DEFAULT_MAX_LENGTH, parseShellCommand } from './shell/index.js';
import type { UpstreamConnection } from './upstream.js';

const MAX_ENV_VARS = 32;

const FLUSH_TIMEOUT_MS = 2_000;
/** How long a submitted line waits for the echo of its keys before it counts as typed without echo. */
const ECHO_WAIT_MS = 250;
/** How long a refusal notice waits for the shell to redraw the erased line. */
const KILL_ECHO_WAIT_MS = 150;

type Accept = (() => void) | undefined;
type Reject = (() => void) | undefined;

/**
 * One `session` channel: collects pty/env requests, then runs exactly one of exec, shell or the
 * sftp subsystem through policy and relays it to a channel on the upstream connection, passing
 * window changes, signals and the exit status along.
 */
export class SessionChannel implements LiveChannel {
  readonly #host: ChannelHost;
  readonly #abort = new AbortController();
  readonly #signal: AbortSignal;
  readonly #outbox = new Outbox();
  readonly #env: Record<string, string> = {};
  readonly #untrack: () => void;
  readonly #recorder: ChannelRecorder;
  readonly #echo = new EchoWatch();
  #pty: PseudoTtyInfo | undefined;
  #kind: 'exec' | 'shell' | 'sftp' | undefined;
  #stream: ServerChannel | undefined;
  #upstream: ClientChannel | undefined;
  #gate: ShellGate | undefined;
  #sftp: SftpRelay | undefined;
  #scp: ScpRelay | undefined;
  #ticket: CommandTicket | undefined;
  #exit: ExitInfo | undefined;
  #finished = false;

  constructor(host: ChannelHost, session: Session) {
    this.#host = host;
    this.#signal = AbortSignal.any([host.signal, this.#abort.signal]);
    this.#untrack = host.track(this);
    this.#recorder = new ChannelRecorder(host.ctx.session, host.options.recordLimitBytes, (recorded) =>
      this.#note({ recording: 'truncated', channel: this.#kind, recordedBytes: recorded }),
    );
    session.on('pty', (accept, reject, info) => this.#onPty(accept, reject, info));
    session.on('window-change', (accept, _reject, info) => {
      if (this.#pty !== undefined) this.#pty = { ...this.#pty, ...info };
      this.#record('resize', `${info.cols}x${info.rows}`);
      try {
        this.#upstream?.setWindow(info.rows, info.cols, info.height, info.width);
      } catch {
        // The upstream channel is closing.
      }
      (accept as Accept)?.();
    });
    session.on('env', (accept, reject, info) => {
      const refusal = envRefusal(info.key, info.val);
      const ok =
        this.#kind === undefined && refusal === undefined && Object.keys(this.#env).length < MAX_ENV_VARS;
      if (ok) this.#env[info.key] = info.val;
      // A name outside the list is routine (OpenSSH sends LANG and LC_* it finds); a listed name
      // with a value that is no locale or terminal name is someone trying something.
      else if (refusal !== undefined && ENV_ALLOWED.test(info.key))
        this.#note({ refused: 'env', name: info.key, reason: refusal });
      (ok ? (accept as Accept) : (reject as Reject))?.();
    });
    session.on('signal', (accept, reject, info) => {
      const upstream = this.#upstream;
      if (upstream === undefined) return (reject as Reject)?.();
      try {
        upstream.signal(info.name);
        (accept as Accept)?.();
      } catch {
        (reject as Reject)?.();
      }
    });
    session.on('auth-agent', (_accept, reject) => {
      (reject as Reject)?.();
      this.#note({ refused: 'agent-forward', reason: 'agent forwarding is not offered by the gateway' });
    });
    session.on('x11', (_accept, reject) => {
      (reject as Reject)?.();
      this.#note({ refused: 'x11', reason: 'X11 forwarding is not offered by the gateway' });
    });
    session.on('exec', (accept, reject, info) => {
      const stream = this.#start('exec', accept, reject);
      if (stream !== undefined) this.#run(() => this.#exec(info.command));
    });
    session.on('shell', (accept, reject) => {
      const stream = this.#start('shell', accept, reject);
      if (stream !== undefined) this.#run(() => this.#shell());
    });
    session.on('subsystem', (accept, reject, info) => {
      if (info.name !== 'sftp') {
        (reject as Reject)?.();
        this.#note({ refused: 'subsystem', name: printable(info.name).slice(0, 100) });
        return;
      }
      const stream = this.#start('sftp', accept, reject);
      if (stream !== undefined) this.#run(() => this.#sftpSubsystem());
    });
    session.on('close', () => this.#clientClosed());
  }

  /** LiveChannel: the connection ends this channel (upstream lost, gateway shutting down). */
  terminate(message: string): void {
    if (this.#finished) return;
    if (this.#stream !== undefined && this.#kind !== 'sftp') this.#stderr(`gatehouse: ${printable(message)}`);
    void this.#finish({ code: EXIT_GATEWAY }, { status: 'error', summary: message });
  }

  get #eol(): string {
    return this.#pty === undefined ? '\n' : '\r\n';
  }

  #onPty(accept: Accept, reject: Reject, info: PseudoTtyInfo): void {
    if (this.#kind !== undefined) {
      reject?.();
      return;
    }
    if (!acceptableTerm(info.term)) {
      reject?.();
      this.#note({ refused: 'pty', reason: 'the terminal type is not a terminal name' });
      return;
    }
    this.#pty = info;
    this.#record('resize', `${info.cols}x${info.rows}`);
    accept?.();
  }

  #start(
    kind: 'exec' | 'shell' | 'sftp',
    accept: () => ServerChannel,
    reject: Reject,
  ): ServerChannel | undefined {
    if (this.#kind !== undefined || this.#finished) {
      reject?.();
      return undefined;
    }
    this.#kind = kind;
    // Accepted at once, so that input the client sends while policy decides is buffered (ssh2
    // drops data for a session whose request is still unanswered) and a refusal can be explained.
    const stream = accept();
    if (stream === undefined) return undefined;
    stream.on('error', () => {});
    stream.stderr.on('error', () => {});
    this.#stream = stream;
    return stream;
  }

  #run(task: () => Promise<void>): void {
    task().catch((err: unknown) => {
      const error = toGatewayError(err);
      this.#host.ctx.logger.error({ err: error.message }, 'ssh channel failed');
      this.terminate(`the gateway failed: ${error.message}`);
    });
  }

  async #exec(text: string): Promise<void> {
    const pty = this.#pty !== undefined;
    if (text.length > DEFAULT_MAX_LENGTH) {
      this.#note({ refused: 'exec', reason: 'command too long to judge', length: text.length });
      return this.#refuse(`the command is longer than ${DEFAULT_MAX_LENGTH} characters and cannot be judged`);
    }
    // With a pty, what the client types is judged line by line, so a shell reading it is no blind
    // spot; without one, a shell reading the channel's input gets its lines judged the same way.
    const parse = parseShellCommand(text, { interactive: pty });
    const gate = pty ? 'terminal' : readsShellInput(parse) ? 'raw' : undefined;
    // Legacy scp moves files over an exec channel: its files are judged like SFTP operations, so
    // an scp that the gateway cannot follow would be a way around the SFTP path rules.
    const scp = recognizeLegacyScp(parse);
    if (scp.kind === 'unsupported') {
      this.#note({ refused: 'exec', reason: scp.reason });
      return this.#refuse(`${scp.reason} (use sftp, or scp without -O)`);
    }
    const sftpServer = sftpServerExec(parse);
    if (sftpServer !== undefined) {
      this.#note({ refused: 'exec', reason: sftpServer });
      return this.#refuse(`${sftpServer} (use the sftp subsystem)`);
    }
    const command = execCommand(text, parse);
    const verdict = await judge(this.#host.ctx, command, this.#signal, (message) =>
      this.#stderr(`gatehouse: held for review: ${printable(message)}; waiting for an approver`),
    );
    if (!verdict.ok) {
      if (verdict.cancelled) return this.#finish(undefined);
      return this.#refuse(verdict.message);
    }
    this.#ticket = verdict.ticket;
    if (scp.kind === 'scp') return this.#scpExec(text, scp.scp);
    const upstream = await this.#openUpstream((u) =>
      u.exec(text, { ...(pty ? { pty: this.#ptyOptions() } : {}), env: { ...this.#env } }),
    );
    if (upstream !== undefined) this.#wire(upstream, gate, 'exec');
  }

  async #scpExec(text: string, scp: LegacyScp): Promise<void> {
    const start = await judgeScpStart(this.#host.ctx, scp, this.#signal);
    if (!start.ok) {
      if (start.cancelled) return this.#finish(undefined);
      return this.#refuse(start.message);
    }
    const upstream = await this.#openUpstream((u) => u.exec(text, { env: { ...this.#env } }));
    const stream = this.#stream;
    if (upstream === undefined || stream === undefined) return;
    this.#upstream = upstream;
    upstream.on('error', () => {});
    upstream.stderr.on('error', () => {});
    relay(upstream.stderr, stream.stderr, this.#outbox, (chunk) => this.#recorder.record('stderr', chunk));
    upstream.on('exit', (...args: unknown[]) => {
      this.#exit = exitInfo(args);
    });
    upstream.on('close', (...args: unknown[]) => void this.#finish(exitAtClose(this.#exit, args)));
    this.#scp = new ScpRelay({
      ctx: this.#host.ctx,
      scp,
      client: stream,
      upstream,
      outbox: this.#outbox,
      recorder: this.#recorder,
      signal: this.#signal,
      startTickets: start.tickets,
      fail: (message) => this.terminate(message),
    });
    this.#scp.start();
  }

  async #shell(): Promise<void> {
    const verdict = await judge(this.#host.ctx, channelCommand('shell', 'shell'), this.#signal, (message) =>
      this.#stderr(`gatehouse: held for review: ${printable(message)}; waiting for an approver`),
    );
    if (!verdict.ok) {
      if (verdict.cancelled) return this.#finish(undefined);
      return this.#refuse(verdict.message);
    }
    this.#ticket = verdict.ticket;
    const pty = this.#pty !== undefined;
    const upstream = await this.#openUpstream((u) =>
      u.shell(pty ? this.#ptyOptions() : false, { env: { ...this.#env } }),
    );
    if (upstream !== undefined) this.#wire(upstream, pty ? 'terminal' : 'raw', 'shell');
  }

  async #sftpSubsystem(): Promise<void> {
    const verdict = await judge(this.#host.ctx, channelCommand('sftp', 'subsystem sftp'), this.#signal);
    if (!verdict.ok) {
      if (verdict.cancelled) return this.#finish(undefined);
      return this.#refuse(verdict.message);
    }
    this.#ticket = verdict.ticket;
    const upstream = await this.#openUpstream((u) => u.subsystem('sftp'));
    const stream = this.#stream;
    if (upstream === undefined || stream === undefined) return;
    this.#upstream = upstream;
    upstream.on('error', () => {});
    upstream.stderr.on('error', () => {});
    relay(upstream.stderr, stream.stderr, this.#outbox);
    upstream.on('exit', (...args: unknown[]) => {
      this.#exit = exitInfo(args);
    });
    upstream.on('close', (...args: unknown[]) => void this.#finish(exitAtClose(this.#exit, args)));
    this.#sftp = new SftpRelay({
      ctx: this.#host.ctx,
      client: stream,
      upstream,
      outbox: this.#outbox,
      signal: this.#signal,
      fail: (message) => this.terminate(message),
    });
    this.#sftp.start();
  }

  async #openUpstream(
    open: (upstream: UpstreamConnection) => Promise<ClientChannel>,
  ): Promise<ClientChannel | undefined> {
    let channel: ClientChannel;
    try {
      channel = await open(await this.#host.upstream());
    } catch (err) {
      const message = toGatewayError(err).message;
      this.#stderr(`gatehouse: ${printable(message)}`);
      await this.#finish({ code: EXIT_GATEWAY }, { status: 'error', summary: message });
      return undefined;
    }
    if (this.#finished) {
      channel.on('error', () => {});
      channel.close();
      return undefined;
    }
    return channel;
  }

  /** Relays an exec or shell channel; `gateMode` puts the client's input through the line gate. */
  #wire(upstream: ClientChannel, gateMode: 'terminal' | 'raw' | undefined, channel: 'exec' | 'shell'): void {
    const stream = this.#stream as ServerChannel;
    this.#upstream = upstream;
    upstream.on('error', () => {});
    upstream.stderr.on('error', () => {});
    const recorder = this.#recorder;
    relay(upstream, stream, this.#outbox, (chunk) => {
      recorder.record('stdout', chunk);
      this.#echo.output();
    });
    relay(upstream.stderr, stream.stderr, this.#outbox, (chunk) => recorder.record('stderr', chunk));
    upstream.on('exit', (...args: unknown[]) => {
      this.#exit = exitInfo(args);
    });
    upstream.on('close', (...args: unknown[]) => void this.#finish(exitAtClose(this.#exit, args)));

    const pauses = new PauseSet(stream);
    let waitingForDrain = false;
    const toUpstream = (bytes: Buffer): void => {
      if (upstream.write(bytes) || waitingForDrain) return;
      waitingForDrain = true;
      pauses.set('upstream', true);
      upstream.once('drain', () => {
        waitingForDrain = false;
        pauses.set('upstream', false);
      });
    };
    // Terminal input carries passwords typed at no-echo prompts: recorded only when configured.
    const recordInput = this.#pty === undefined || this.#host.options.recordTerminalInput;
    if (gateMode === undefined) {
      stream.on('data', (chunk: Buffer) => {
        this.#input(chunk, recordInput);
        toUpstream(chunk);
      });
      stream.on('end', () => upstream.end());
      return;
    }
    const maxLineChars = this.#host.options.maxLineChars;
    const gate = new ShellGate(
      new LineTracker({ mode: gateMode, maxLineChars }),
      {
        forward: (bytes, kind) => {
          if (kind === 'input') this.#echo.typed(bytes.length);
          toUpstream(bytes);
        },
        notify: async (message) => {
          // Let the shell erase the refused line first, so the notice lands below a clean prompt.
          if (gateMode === 'terminal') await this.#echo.nextOutput(KILL_ECHO_WAIT_MS);
          this.#lineNotice(`denied: ${message}`);
        },
        judge: (line, signal) => this.#judgeLine(line, signal, channel),
        backpressure: (paused) => pauses.set('gate', paused),
      },
      { mode: gateMode, maxLineBytes: maxLineChars * 4 },
    );
    this.#gate = gate;
    stream.on('data', (chunk: Buffer) => {
      this.#input(chunk, recordInput);
      gate.push(chunk);
    });
    stream.on('end', () => {
      void gate.end().then(() => upstream.end());
    });
  }

  async #judgeLine(
    line: SubmittedLine,
    signal: AbortSignal,
    channel: 'exec' | 'shell',
  ): Promise<LineVerdict> {
    const max = this.#host.options.maxLineChars;
    if (line.truncated) {
      this.#note({ refused: 'shell-line', reason: 'line too long to judge', start: line.text.slice(0, 200) });
      return { allow: false, message: `the line is longer than ${max} characters and cannot be judged` };
    }
    // A line typed without echo is an answer to a password prompt: judged like any line, but its
    // text is redacted from the log (the words too, for a passphrase).
    const echoed = this.#pty === undefined || (await this.#echo.lineEchoed(ECHO_WAIT_MS));
    const parse = parseShellCommand(line.text, { interactive: true });
    const base = shellLineCommand(line, parse, channel);
    const hidden = !echoed && line.text !== '';
    const command = hidden ? { ...base, attributes: { ...base.attributes, echo: false } } : base;
    const secrets = hidden ? [line.text, ...parse.commands.flat().filter((w) => w.length >= 4)] : [];
    const verdict = await judge(
      this.#host.ctx,
      command,
      AbortSignal.any([signal, this.#signal]),
      (message) => this.#lineNotice(`waiting for approval: ${message} (Ctrl-C cancels)`),
      secrets,
    );
    if (verdict.ok) return { allow: true };
    return { allow: false, message: verdict.message, silent: verdict.cancelled };
  }

  /** A notice to the person at the client, in their terminal when there is one, else on stderr. */
  #lineNotice(text: string): void {
    if (this.#pty === undefined) {
      this.#stderr(`gatehouse: ${printable(text)}`);
      return;
    }
    const line = `\r\n[gatehouse] ${printable(text)}\r\n`;
    const stream = this.#stream;
    if (stream === undefined || this.#finished) return;
    this.#recorder.record('stdout', line);
    this.#outbox.write(stream, line);
  }

  #stderr(text: string): void {
    const stream = this.#stream;
    if (stream === undefined || this.#finished) return;
    const line = `${text}${this.#eol}`;
    this.#recorder.record('stderr', line);
    this.#outbox.write(stream.stderr, line);
  }

  #refuse(message: string): Promise<void> {
    this.#stderr(`gatehouse: denied: ${printable(message)}`);
    return this.#finish({ code: EXIT_DENIED });
  }

  async #finish(exit: ExitInfo | undefined, override?: CommandResult): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    this.#gate?.close();
    this.#sftp?.close();
    this.#scp?.close();
    const stream = this.#stream;
    if (stream !== undefined) {
      await this.#outbox.flushed(FLUSH_TIMEOUT_MS);
      sendExit(stream, exit);
      stream.end();
    }
    const upstream = this.#upstream;
    if (upstream !== undefined) {
      try {
        upstream.close();
      } catch {
        // Already closed.
      }
    }
    if (this.#ticket !== undefined) {
      this.#host.ctx.session.result(this.#ticket, override ?? resultOf(exit, this.#recorder.counts));
    }
    this.#untrack();
  }

  #clientClosed(): void {
    this.#abort.abort();
    if (this.#finished) return;
    this.#finished = true;
    this.#gate?.close();
    this.#sftp?.close();
    this.#scp?.close();
    try {
      this.#upstream?.close();
    } catch {
      // Already closed.
    }
    if (this.#ticket !== undefined) {
      this.#host.ctx.session.result(this.#ticket, { status: 'error', summary: 'closed by the client' });
    }
    this.#untrack();
  }

  #input(chunk: Buffer, record: boolean): void {
    if (record) this.#recorder.record('stdin', chunk);
    else this.#recorder.count('stdin', chunk.length);
  }

  #ptyOptions(): PseudoTtyOptions {
    const p = this.#pty as PseudoTtyInfo;
    return { rows: p.rows, cols: p.cols, height: p.height, width: p.width, term: p.term, modes: p.modes };
  }

  #record(stream: 'resize', data: string): void {
    this.#host.ctx.session.output(stream, data);
  }

  #note(data: Record<string, unknown>): void {
    this.#host.ctx.session.annotate(data).catch(() => {});
  }
}
