import { EventEmitter } from 'node:events';
import { connect } from 'node:net';
import { UpstreamError } from '@gatehouse/core';
import type { ClientChannel, ExecOptions, PseudoTtyOptions, ShellOptions, Client as SshClient } from 'ssh2';
import { coalesceWrites } from './coalesce-writes.js';
import { modernAlgorithms } from './keys/algorithms.js';
import { fingerprintOf } from './keys/public-key.js';
import { Client } from './keys/ssh2.js';
import type { SshOptions, SshUpstream } from './options.js';

export const HOST_KEY_MISMATCH = 'upstream host key does not match the pinned key';

export interface UpstreamLoss {
  readonly reason: 'upstream-closed' | 'upstream-error';
  /** Shown to the client and logged. */
  readonly message: string;
}

/**
 * The gateway's one SSH connection to the upstream sshd for one client connection; the client's
 * channels are multiplexed over it. Emits `lost` (UpstreamLoss) once when the connection dies after
 * it was established, whoever closed it, unless the gateway ended it itself.
 */
export class UpstreamConnection extends EventEmitter {
  readonly client: SshClient;
  #ended = false;
  #lost: UpstreamLoss | undefined;
  #lastError: Error | undefined;

  private constructor(client: SshClient) {
    super();
    this.client = client;
    client.on('error', (err) => {
      this.#lastError = err;
    });
    const onGone = () => this.#gone();
    client.on('end', onGone);
    client.on('close', onGone);
  }

  get lost(): UpstreamLoss | undefined {
    return this.#lost;
  }

  /**
   * Connects, verifies the pinned host key and logs in with the gateway-held credential. Rejects
   * with an UpstreamError whose message can be shown to the client.
   */
  static connect(
    upstream: SshUpstream,
    user: string,
    options: Pick<
      SshOptions,
      'keepaliveIntervalMs' | 'keepaliveCountMax' | 'upstreamTimeoutMs' | 'terrapinSafeOnly'
    >,
  ): Promise<UpstreamConnection> {
    return new Promise((resolve, reject) => {
      const client = new Client();
      let presented: string | undefined;
      let settled = false;
      const fail = (err: UpstreamError) => {
        if (settled) return;
        settled = true;
        client.removeAllListeners('ready');
        client.on('error', () => {});
        client.end();
        reject(err);
      };
      client.once('ready', () => {
        if (settled) return;
        settled = true;
        client.removeListener('error', onError);
        client.removeListener('close', onClose);
        resolve(new UpstreamConnection(client));
      });
      const onError = (err: Error & { level?: string }) => {
        if (presented !== undefined) {
          fail(
            new UpstreamError(HOST_KEY_MISMATCH, {
              cause: err,
              details: { presented, pinned: upstream.hostKey.fingerprint },
            }),
          );
          return;
        }
        fail(classify(err, upstream, user, options.upstreamTimeoutMs));
      };
      const onClose = () => fail(new UpstreamError('the upstream closed the connection during login'));
      client.on('error', onError);
      client.on('close', onClose);
      // The gateway's own socket, so that its writes can be coalesced (see coalesce-writes.ts).
      const sock = connect({ host: upstream.host, port: upstream.port });
      sock.setMaxListeners(0);
      coalesceWrites(sock);
      client.connect({
        sock,
        host: upstream.host,
        port: upstream.port,
        username: user,
        ...(upstream.password === undefined ? {} : { password: upstream.password }),
        ...(upstream.privateKey === undefined ? {} : { privateKey: upstream.privateKey }),
        tryKeyboard: upstream.password !== undefined,
        hostVerifier: (key: Buffer) => {
          if (upstream.hostKey.matches(key)) return true;
          presented = fingerprintOf(key);
          return false;
        },
        readyTimeout: options.upstreamTimeoutMs,
        keepaliveInterval: options.keepaliveIntervalMs,
        keepaliveCountMax: options.keepaliveCountMax,
        algorithms: modernAlgorithms({
          serverHostKey: upstream.hostKey.algorithms,
          terrapinSafeOnly: options.terrapinSafeOnly,
        }),
        ident: 'Gatehouse',
      });
      if (upstream.password !== undefined) {
        const password = upstream.password;
        client.on('keyboard-interactive', (_name, _instructions, _lang, prompts, finish) => {
          finish(prompts.map(() => password));
        });
      }
    });
  }

  exec(command: string, options: ExecOptions): Promise<ClientChannel> {
    return this.#open((cb) => this.client.exec(command, options, cb));
  }

  shell(pty: PseudoTtyOptions | false, options: ShellOptions): Promise<ClientChannel> {
    return this.#open((cb) => this.client.shell(pty, options, cb));
  }

  subsystem(name: string): Promise<ClientChannel> {
    return this.#open((cb) => this.client.subsys(name, cb));
  }

  forwardOut(srcIP: string, srcPort: number, dstIP: string, dstPort: number): Promise<ClientChannel> {
    return this.#open((cb) => this.client.forwardOut(srcIP, srcPort, dstIP, dstPort, cb));
  }

  forwardIn(address: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.client.forwardIn(address, port, (err, bound) => {
        if (err)
          reject(new UpstreamError(`the upstream refused to listen on ${address}:${port}: ${err.message}`));
        else resolve(bound);
      });
    });
  }

  unforwardIn(address: string, port: number): Promise<void> {
    return new Promise((resolve) => {
      this.client.unforwardIn(address, port, () => resolve());
    });
  }

  /** Closes the connection; no `lost` event follows. */
  end(): void {
    this.#ended = true;
    this.client.end();
  }

  #open(
    start: (cb: (err: Error | undefined, channel: ClientChannel) => void) => void,
  ): Promise<ClientChannel> {
    if (this.#lost !== undefined) return Promise.reject(new UpstreamError(this.#lost.message));
    return new Promise((resolve, reject) => {
      try {
        start((err, channel) => {
          if (err)
            reject(new UpstreamError(`the upstream refused the channel: ${err.message}`, { cause: err }));
          else resolve(channel);
        });
      } catch (err) {
        reject(
          new UpstreamError(`the upstream connection is not usable: ${(err as Error).message}`, {
            cause: err,
          }),
        );
      }
    });
  }

  #gone(): void {
    if (this.#lost !== undefined || this.#ended) return;
    const err = this.#lastError;
    this.#lost =
      err === undefined
        ? { reason: 'upstream-closed', message: 'the upstream closed the connection' }
        : { reason: 'upstream-error', message: `the upstream connection failed: ${err.message}` };
    this.emit('lost', this.#lost);
  }
}

function classify(
  err: Error & { level?: string },
  upstream: SshUpstream,
  user: string,
  timeoutMs: number,
): UpstreamError {
  const where = `${upstream.host}:${upstream.port}`;
  if (err.level === 'client-authentication') {
    return new UpstreamError(`the upstream ${where} refused the gateway's credentials for user "${user}"`, {
      cause: err,
    });
  }
  if (err.level === 'client-timeout') {
    return new UpstreamError(`the upstream ${where} did not complete the SSH login within ${timeoutMs}ms`, {
      cause: err,
    });
  }
  if (err.level === 'client-socket') {
    const code = (err as { code?: string }).code;
    return new UpstreamError(`the upstream ${where} is unreachable (${code ?? err.message})`, { cause: err });
  }
  return new UpstreamError(`SSH login to the upstream ${where} failed: ${err.message}`, { cause: err });
}
