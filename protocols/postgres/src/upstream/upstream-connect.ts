import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { ErrorCode, GatewayError, ProtocolError, UpstreamError } from '@gatehouse/core';
import { encodeFrontendMessage } from '../wire/index.js';
import {
  Backend,
  type MessageFields,
  readAuthentication,
  readBackendKeyData,
  readFields,
  readParameterStatus,
  readSaslMechanisms,
  readyForQueryStatus,
} from './backend-messages.js';
import { MessageQueue, type RawBackendMessage } from './message-queue.js';
import { ScramClient } from './scram.js';

export type UpstreamTlsMode = 'disable' | 'require' | 'verify-full';

/** Where and as whom the gateway logs in upstream; secrets resolved. */
export interface UpstreamTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  readonly password?: string | undefined;
  readonly tls: { readonly mode: UpstreamTlsMode; readonly ca?: string | undefined };
}

export interface UpstreamConnection {
  readonly socket: Socket;
  /** ParameterStatus messages as sent, for relaying to the client. */
  readonly parameterStatus: readonly Buffer[];
  readonly parameters: ReadonlyMap<string, string>;
  /** NoticeResponse messages sent during the start (relayed too). */
  readonly notices: readonly Buffer[];
  readonly processId: number;
  readonly secretKey: Buffer;
  readonly status: 'I' | 'T' | 'E';
  readonly tls: boolean;
  /** `scram-sha-256`, `md5`, `password` or `trust`. */
  readonly authMethod: string;
}

/** The upstream answered the start with an ErrorResponse; its fields are relayed to the client. */
export class UpstreamRefusedError extends UpstreamError {
  readonly fields: MessageFields;
  /** The refusal came during authentication: the gateway's credentials are wrong. */
  readonly authentication: boolean;

  constructor(fields: MessageFields, authentication: boolean) {
    const code = fields.get('C') ?? 'XX000';
    super(`upstream refused the connection: ${fields.get('M') ?? 'no message'} (SQLSTATE ${code})`, {
      details: { sqlstate: code },
    });
    this.name = 'UpstreamRefusedError';
    this.fields = fields;
    this.authentication = authentication;
  }
}

export interface ConnectOptions {
  readonly timeoutMs: number;
  /** Startup parameters besides user and database (application_name, DateStyle…). */
  readonly parameters: readonly { readonly name: string; readonly value: string }[];
  readonly signal?: AbortSignal;
}

/**
 * Opens an authenticated connection to the upstream server with the gateway's credentials and
 * reads it up to the first ReadyForQuery. Rejects with an UpstreamError (unreachable, timeout,
 * TLS failure, unsupported authentication) or an UpstreamRefusedError (an ErrorResponse).
 */
export async function connectUpstream(
  target: UpstreamTarget,
  options: ConnectOptions,
): Promise<UpstreamConnection> {
  let socket: Socket | undefined;
  let timer: NodeJS.Timeout | undefined;
  const onAbort = () => socket?.destroy();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const work = (async () => {
      socket = await openSocket(target);
      let tls = false;
      if (target.tls.mode !== 'disable') {
        socket = await startTls(socket, target);
        tls = true;
      }
      return await startup(socket, target, options, tls);
    })();
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new GatewayError(
              ErrorCode.Timeout,
              `the upstream ${target.host}:${target.port} did not complete the connection within ${options.timeoutMs}ms`,
            ),
          ),
        options.timeoutMs,
      );
    });
    work.catch(() => undefined);
    return await Promise.race([work, deadline]);
  } catch (err) {
    socket?.destroy();
    throw err;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

function openSocket(target: UpstreamTarget): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: target.host, port: target.port, noDelay: true });
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(socket);
    });
    const onError = (err: Error) =>
      reject(
        new UpstreamError(`cannot reach the upstream ${target.host}:${target.port}: ${err.message}`, {
          cause: err,
        }),
      );
    socket.once('error', onError);
  });
}

/** SSLRequest, then exactly one byte of answer: more would be bytes injected before the handshake. */
async function startTls(socket: Socket, target: UpstreamTarget): Promise<Socket> {
  const answer = await new Promise<number>((resolve, reject) => {
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      cleanup();
      socket.pause();
      if (chunk.length !== 1) {
        reject(
          new ProtocolError(
            'the upstream sent data after its answer to SSLRequest, before the TLS handshake',
          ),
        );
      } else resolve(chunk[0]!);
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new UpstreamError(`upstream connection failed: ${err.message}`, { cause: err }));
    };
    const onClose = () => {
      cleanup();
      reject(new UpstreamError('the upstream closed the connection during TLS negotiation'));
    };
    socket.on('data', onData);
    socket.once('error', onError);
    socket.once('close', onClose);
    socket.write(encodeFrontendMessage({ type: 'SSLRequest' }));
  });
  if (answer !== 0x53) {
    throw new UpstreamError(
      `the upstream ${target.host}:${target.port} does not accept TLS, and tls.mode is ${target.tls.mode}`,
    );
  }
  const verify = target.tls.mode === 'verify-full';
  const ca = verify && target.tls.ca !== undefined ? await readFile(target.tls.ca) : undefined;
  return new Promise((resolve, reject) => {
    const secure = tlsConnect({
      socket,
      host: target.host,
      ...(isIP(target.host) === 0 ? { servername: target.host } : {}),
      rejectUnauthorized: verify,
      ...(ca === undefined ? {} : { ca }),
    });
    secure.once('secureConnect', () => {
      secure.off('error', onError);
      secure.setNoDelay(true);
      resolve(secure);
    });
    const onError = (err: Error) =>
      reject(
        new UpstreamError(`TLS with the upstream ${target.host}:${target.port} failed: ${err.message}`, {
          cause: err,
        }),
      );
    secure.once('error', onError);
  });
}

async function startup(
  socket: Socket,
  target: UpstreamTarget,
  options: ConnectOptions,
  tls: boolean,
): Promise<UpstreamConnection> {
  const queue = new MessageQueue(socket);
  socket.write(
    encodeFrontendMessage({
      type: 'StartupMessage',
      majorVersion: 3,
      minorVersion: 0,
      parameters: [
        { name: 'user', value: target.user },
        { name: 'database', value: target.database },
        ...options.parameters,
      ],
    }),
  );
  const authMethod = await authenticate(socket, queue, target);
  const parameterStatus: Buffer[] = [];
  const parameters = new Map<string, string>();
  const notices: Buffer[] = [];
  let key: { processId: number; secretKey: Buffer } | undefined;
  for (;;) {
    const m = await queue.next();
    switch (m.code) {
      case Backend.ParameterStatus: {
        const p = readParameterStatus(m.raw);
        parameters.set(p.name, p.value);
        parameterStatus.push(m.raw);
        break;
      }
      case Backend.BackendKeyData:
        key = readBackendKeyData(m.raw);
        break;
      case Backend.NoticeResponse:
        notices.push(m.raw);
        break;
      case Backend.ErrorResponse:
        throw new UpstreamRefusedError(readFields(m.raw), false);
      case Backend.ReadyForQuery: {
        const status = readyForQueryStatus(m.raw);
        const rest = queue.detach();
        if (rest.messages.length > 0 || rest.partial) {
          throw new ProtocolError('the upstream sent messages after ReadyForQuery unasked');
        }
        return {
          socket,
          parameterStatus,
          parameters,
          notices,
          processId: key?.processId ?? 0,
          secretKey: key?.secretKey ?? Buffer.alloc(0),
          status,
          tls,
          authMethod,
        };
      }
      default:
        throw unexpected(m, 'after authentication');
    }
  }
}

async function authenticate(socket: Socket, queue: MessageQueue, target: UpstreamTarget): Promise<string> {
  let method = 'trust';
  let scram: ScramClient | undefined;
  for (;;) {
    const m = await queue.next();
    if (m.code === Backend.ErrorResponse) throw new UpstreamRefusedError(readFields(m.raw), true);
    if (m.code === Backend.NoticeResponse) continue;
    if (m.code !== Backend.Authentication) throw unexpected(m, 'during authentication');
    const { code, data } = readAuthentication(m.raw);
    switch (code) {
      case 0:
        if (scram !== undefined && !scram.verified) {
          throw new UpstreamError(
            'the upstream ended SCRAM authentication without proving it knows the password',
          );
        }
        return method;
      case 3:
        method = 'password';
        socket.write(passwordMessage(`${requirePassword(target)}\0`));
        break;
      case 5: {
        method = 'md5';
        if (data.length !== 4) throw new ProtocolError('upstream sent a malformed MD5 salt');
        socket.write(passwordMessage(`${md5Password(target.user, requirePassword(target), data)}\0`));
        break;
      }
      case 10: {
        method = 'scram-sha-256';
        const mechanisms = readSaslMechanisms(data);
        if (!mechanisms.includes('SCRAM-SHA-256')) {
          throw new UpstreamError(
            `the upstream offers no SASL mechanism the gateway supports (${mechanisms.join(', ')})`,
          );
        }
        scram = new ScramClient(requirePassword(target));
        const first = Buffer.from(scram.clientFirst(), 'utf8');
        const mech = Buffer.from('SCRAM-SHA-256\0', 'utf8');
        const body = Buffer.allocUnsafe(mech.length + 4 + first.length);
        mech.copy(body, 0);
        body.writeInt32BE(first.length, mech.length);
        first.copy(body, mech.length + 4);
        socket.write(encodeFrontendMessage({ type: 'PasswordMessage', data: body }));
        break;
      }
      case 11:
        if (scram === undefined) throw new ProtocolError('upstream sent SASLContinue before SASL');
        socket.write(
          encodeFrontendMessage({
            type: 'PasswordMessage',
            data: Buffer.from(scram.clientFinal(data.toString('utf8')), 'utf8'),
          }),
        );
        break;
      case 12:
        if (scram === undefined) throw new ProtocolError('upstream sent SASLFinal before SASL');
        scram.verifyServerFinal(data.toString('utf8'));
        break;
      default:
        throw new UpstreamError(
          `the upstream asks for an authentication method the gateway does not support (code ${code})`,
        );
    }
  }
}

function passwordMessage(text: string): Buffer {
  return encodeFrontendMessage({ type: 'PasswordMessage', data: Buffer.from(text, 'utf8') });
}

function requirePassword(target: UpstreamTarget): string {
  if (target.password === undefined || target.password === '') {
    throw new UpstreamError('the upstream asks for a password but the connection has no upstream.password');
  }
  return target.password;
}

/** PostgreSQL's MD5 scheme: "md5" + md5(md5(password + user) + salt). */
export function md5Password(user: string, password: string, salt: Buffer): string {
  const inner = createHash('md5')
    .update(password + user, 'utf8')
    .digest('hex');
  return `md5${createHash('md5').update(inner, 'utf8').update(salt).digest('hex')}`;
}

function unexpected(m: RawBackendMessage, when: string): ProtocolError {
  const code = String.fromCharCode(m.code);
  return new ProtocolError(`the upstream sent an unexpected message '${code}' ${when}`);
}
