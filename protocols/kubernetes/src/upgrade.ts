/**
 * Upgraded requests: `kubectl exec`, `attach` and `port-forward`. Over WebSocket they are judged,
 * then relayed and recorded (exec-relay.ts). SPDY is refused with a message saying how to get
 * WebSocket: its streams are multiplexed in compressed frames that the gateway would have to
 * relay blind, and an exec whose stdin and output cannot be recorded is not one the gateway lets
 * through. Port forwarding needs an explicit allow rule.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type Command, type CommandTicket, toGatewayError } from '@gatehouse/core';
import { DEFAULT_MAX_LINE_CHARS } from '@gatehouse/ssh';
import { WebSocketServer } from 'ws';
import { Channel, EXEC_PROTOCOLS, PORT_FORWARD_PROTOCOLS, relayedProtocols } from './channel-protocol.js';
import { relay } from './exec-relay.js';
import type { KubeConnection } from './kube-connection.js';
import {
  execShellCommand,
  explicitlyAllowed,
  isPodStream,
  needsExplicitAllow,
  requestAttributes,
  requestCommand,
} from './request-command.js';
import { clientHeadersForUpstream } from './request-headers.js';
import type { RequestInfo } from './request-info/index.js';
import { executeErrorStatus, type KubeStatus, kubeStatus, rawStatusResponse } from './status.js';
import { gateModeFor } from './stdin-gate.js';

export const SPDY_REFUSAL =
  'Gatehouse relays kubectl exec, attach and port-forward over WebSocket only, so that the streams can be recorded; this client asked for SPDY. Use kubectl 1.30 or newer (WebSocket is its default; leave KUBECTL_REMOTE_COMMAND_WEBSOCKETS unset or true, and for port-forward use kubectl 1.31 or newer with KUBECTL_PORT_FORWARD_WEBSOCKETS unset or true).';

function refuse(socket: Duplex, status: KubeStatus): void {
  if (socket.writable) socket.end(rawStatusResponse(status));
  setTimeout(() => socket.destroy(), 1_000).unref();
}

export async function handleUpgrade(
  conn: KubeConnection,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): Promise<void> {
  const { session } = conn.ctx;
  socket.on('error', () => {});
  if (conn.shuttingDown) return refuse(socket, kubeStatus(503, 'the gateway is shutting down'));
  const auth = await conn.auth.check(req.headers.authorization);
  if (!auth.ok) {
    if (auth.endReason !== undefined) conn.end = { reason: auth.endReason, detail: auth.message };
    return refuse(socket, kubeStatus(auth.status, auth.message));
  }
  conn.authenticated();
  const judged = conn.judgeTarget(req);
  if ('error' in judged) {
    await session
      .annotate({ refused: 'non_canonical_request', method: req.method, reason: judged.error }, [auth.token])
      .catch(() => undefined);
    return refuse(socket, kubeStatus(400, judged.error));
  }
  const { info, target, text } = judged;
  if (!isPodStream(info) || !info.isResourceRequest) {
    return refuse(
      socket,
      kubeStatus(
        400,
        'the gateway relays upgraded connections only for pods/exec, pods/attach and pods/portforward',
      ),
    );
  }
  const portForward = info.subresource === 'portforward';
  const websocket = (req.headers.upgrade ?? '').toLowerCase() === 'websocket';
  const upstream = await conn.deps.upstream.credentials();
  const secrets = conn.secrets(auth.token, upstream.secrets);
  const headers = clientHeadersForUpstream(req.rawHeaders, '*/*');
  const offered = portForward ? PORT_FORWARD_PROTOCOLS : EXEC_PROTOCOLS;
  const protocols = relayedProtocols(req.headers['sec-websocket-protocol'], offered);
  const attributes = requestAttributes(info, {
    ...(websocket ? { protocols } : { upgrade: String(req.headers.upgrade ?? '') }),
    ...(headers.removed.length === 0 ? {} : { strippedHeaders: headers.removed }),
  });
  const command = requestCommand(text, attributes);
  const argv = info.subresource === 'exec' ? (info.execCommand ?? []) : [];
  const streams = { stdin: info.stdin === true, tty: info.tty === true };
  const where = { namespace: info.namespace, pod: info.name, container: info.container };
  // With a tty what is typed is judged line by line, so a shell reading it is no blind spot.
  const shell =
    argv.length > 0
      ? execShellCommand(argv, where, conn.deps.analyzeShell, { interactive: streams.tty })
      : undefined;
  // attach joins the container's main process, which is typically a shell when stdin is open.
  const gateMode =
    shell !== undefined
      ? gateModeFor(streams, shellFacts(shell))
      : info.subresource === 'attach' && streams.stdin
        ? streams.tty
          ? 'terminal'
          : 'raw'
        : undefined;

  if (!websocket) {
    // SPDY (kubectl before 1.30, or the fallback after a failed WebSocket attempt) is never relayed.
    // A request policy would deny gets the denial (kubectl shows it rather than the SPDY advice);
    // the decision is only looked at, not logged as a command, since nothing will run.
    const denial = pureDenial(conn, info, [command, ...(shell === undefined ? [] : [shell])]);
    await session
      .annotate({ refused: 'spdy', text, attributes, ...(denial === undefined ? {} : { denial }) }, secrets)
      .catch(() => undefined);
    return refuse(
      socket,
      denial === undefined ? kubeStatus(400, SPDY_REFUSAL) : kubeStatus(403, denial, 'Forbidden'),
    );
  }
  if (protocols.length === 0) {
    return refuse(
      socket,
      kubeStatus(
        400,
        `none of the offered WebSocket subprotocols is relayed by the gateway (it relays ${offered.join(', ')})`,
      ),
    );
  }
  const identity = session.identity;
  if (portForward && identity !== undefined) {
    const decision = conn.ctx.policy.decide({ connection: conn.ctx.connection.name, identity, command });
    if (decision.action === 'allow' && !explicitlyAllowed(decision)) {
      const message = needsExplicitAllow(info) as string;
      await session
        .annotate({ refused: 'portforward', text, attributes, reason: message }, secrets)
        .catch(() => undefined);
      return refuse(socket, kubeStatus(403, message, 'Forbidden'));
    }
  }
  const tickets: CommandTicket[] = [];
  try {
    tickets.push(await conn.execute(command, secrets));
    if (shell !== undefined) tickets.push(await conn.execute(shell, secrets));
  } catch (err) {
    const status = executeErrorStatus(toGatewayError(err));
    for (const t of tickets)
      session.result(t, {
        status: 'error',
        summary: String(status.code),
        error: { code: 'not_forwarded', message: status.message },
      });
    // kubectl falls back to SPDY when a WebSocket upgrade fails, and would then show the SPDY advice
    // instead of this refusal: exec and attach get it on the status channel of an accepted socket.
    if (!portForward && status.code === 403)
      return refuseOnStatusChannel(req, socket, head, protocols, status);
    return refuse(socket, status);
  }

  const url = new URL(conn.deps.upstream.url.href);
  url.protocol = 'wss:';
  const relayed = await relay({
    req,
    socket,
    head,
    url: `${url.origin}${conn.deps.upstream.basePath}${target}`,
    protocols,
    headers: {
      ...pick(headers.rawHeaders, 'user-agent'),
      ...upstream.headers,
      'x-forwarded-for': session.info.clientAddress,
    },
    tls: upstream.tls,
    session,
    record: !portForward,
    gate:
      gateMode === undefined
        ? undefined
        : {
            mode: gateMode,
            judge: {
              where: Object.fromEntries(Object.entries(where).filter(([, v]) => v !== undefined)),
              maxLineChars: DEFAULT_MAX_LINE_CHARS,
              execute: async (command, signal) => {
                const ticket = await conn.execute(command, secrets, signal);
                session.result(ticket, { status: 'ok', summary: 'forwarded' });
              },
            },
          },
    handshakeTimeoutMs: conn.deps.options.upstreamTimeoutMs,
    signal: conn.signal,
    masker: portForward ? undefined : session.masker(),
    maskHoldMs: conn.deps.options.outputMaskHoldMs,
  });
  const exitCode = relayed.exit?.exitCode;
  const ok = relayed.status === 101 && (portForward || relayed.exit?.status === 'Success');
  for (const ticket of tickets) {
    session.result(ticket, {
      status: ok ? 'ok' : 'error',
      summary:
        relayed.status !== 101
          ? String(relayed.status)
          : exitCode !== undefined
            ? `exit ${exitCode}`
            : 'closed',
      bytes: relayed.bytes.stdout + relayed.bytes.stderr + relayed.bytes.other,
      data: {
        status: relayed.status,
        ...(relayed.protocol === undefined ? {} : { protocol: relayed.protocol }),
        ...(exitCode === undefined ? {} : { exitCode }),
        ...(relayed.exit?.message === undefined || relayed.exit.status === 'Success'
          ? {}
          : { exitMessage: relayed.exit.message }),
        stdinBytes: relayed.bytes.stdin,
        stdoutBytes: relayed.bytes.stdout,
        stderrBytes: relayed.bytes.stderr,
        ...(portForward ? { forwardedBytes: relayed.bytes.other } : {}),
      },
      ...(relayed.error === undefined ? {} : { error: relayed.error }),
    });
  }
}

/** The message policy would deny one of these commands with, without logging or holding anything. */
function pureDenial(
  conn: KubeConnection,
  info: RequestInfo,
  commands: readonly Command[],
): string | undefined {
  const identity = conn.ctx.session.identity;
  if (identity === undefined) return undefined;
  for (const command of commands) {
    const d = conn.ctx.policy.decide({ connection: conn.ctx.connection.name, identity, command });
    if (d.action === 'deny') return denialMessage(d.ruleId, d.message);
    if (command === commands[0] && d.action === 'allow' && !explicitlyAllowed(d)) {
      const message = needsExplicitAllow(info);
      if (message !== undefined) return message;
    }
  }
  return undefined;
}

/** The gateway's own denial, as the API server words one: the rule's message, then the rule. */
function denialMessage(ruleId: string | undefined, message: string | undefined): string {
  const text = message ?? 'command not allowed by policy';
  return ruleId === undefined ? text : `${text} (rule ${ruleId})`;
}

/** Accepts the WebSocket only to send the refusal as the command's final Status, then closes. */
function refuseOnStatusChannel(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  protocols: readonly string[],
  status: KubeStatus,
): void {
  const server = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: () => protocols[0] ?? false,
  });
  server.handleUpgrade(req, socket, head, (ws) => {
    const { kind: _k, apiVersion: _a, ...body } = status;
    ws.send(Buffer.concat([Buffer.from([Channel.Status]), Buffer.from(JSON.stringify(body))]), () =>
      ws.close(1000),
    );
    setTimeout(() => ws.terminate(), 2_000).unref();
  });
}

/** The parse facts an exec command carries (`opaqueReasons` from the shell parser). */
function shellFacts(command: Command): { reasons: string[] } {
  const reasons = command.attributes?.['opaqueReasons'];
  return { reasons: Array.isArray(reasons) ? reasons.filter((r): r is string => typeof r === 'string') : [] };
}

function pick(rawHeaders: readonly string[], name: string): Record<string, string> {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] as string).toLowerCase() === name) return { [name]: rawHeaders[i + 1] as string };
  }
  return {};
}
