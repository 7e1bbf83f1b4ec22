/**
 * In-process test bed for the HTTP module: a real Gateway with this module, fake identity,
 * policy and approvals, a recording log, and a real node:http upstream. Clients are real curl and
 * fetch.
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type ApprovalBroker,
  type ApprovalOutcome,
  type ApprovalRequestInput,
  AuthError,
  type Decision,
  type EventInput,
  type Identity,
  LogWriteError,
  type PolicyEngine,
  type SessionLogWriter,
  type StoredEvent,
  silentLogger,
} from '@gatehouse/core';
import { Gateway, type GatewayOptions } from '../../../../gateway/src/index.js';
import { createRegistry } from '../../../../gateway/src/registry.js';
import { httpModule } from '../http-module.js';
import { fakeMasker } from './fake-masker.js';

export const UPSTREAM_SECRET = 'Bearer upstream-secret-0123456789';

export class RecordingLog implements SessionLogWriter {
  readonly strict = true;
  readonly events: StoredEvent[] = [];
  failing = false;
  async append(event: EventInput): Promise<StoredEvent> {
    if (this.failing) throw new LogWriteError('session log unavailable: disk full');
    let data = JSON.stringify(event.data);
    for (const secret of event.secrets ?? []) if (secret !== '') data = data.split(secret).join('[REDACTED]');
    const stored: StoredEvent = {
      seq: this.events.length + 1,
      ts: Date.now(),
      sessionId: event.sessionId,
      type: event.type,
      data: JSON.parse(data) as Record<string, unknown>,
      prevHash: '',
      hash: '',
    };
    this.events.push(stored);
    return stored;
  }
  health() {
    return { ok: !this.failing };
  }
  async close() {}
  ofType(type: string): StoredEvent[] {
    return this.events.filter((e) => e.type === type);
  }
  /** Waits until `count` events of `type` are logged (results are logged after the response). */
  async waitFor(type: string, count = 1): Promise<StoredEvent[]> {
    for (let i = 0; i < 300; i++) {
      const found = this.ofType(type);
      if (found.length >= count) return found;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`expected ${count} ${type} events, got ${this.ofType(type).length}`);
  }
}

export const identities: Record<string, Identity> = {
  'tok-agent': {
    subject: 'agent-1',
    groups: ['agents'],
    issuer: 'test',
    expiresAt: new Date(Date.now() + 3_600_000),
  },
  'tok-agent-b': { subject: 'agent-1', groups: ['agents'], issuer: 'test', tokenId: 'b' },
  'tok-other': { subject: 'agent-2', groups: ['agents'], issuer: 'test' },
  'tok-intruder': { subject: 'intruder', groups: ['others'], issuer: 'test' },
  'tok-expired': {
    subject: 'agent-1',
    groups: ['agents'],
    issuer: 'test',
    expiresAt: new Date(Date.now() - 1_000),
  },
};

export class CountingVerifier {
  calls = 0;
  async verify(token: string): Promise<Identity> {
    this.calls++;
    const identity = identities[token];
    if (identity === undefined) throw new AuthError('token signature invalid');
    return identity;
  }
}

/** Denies /admin/**, holds DELETE for review, allows the rest; masks with the fake masker. */
export const policy: PolicyEngine = {
  decide({ command }): Decision {
    const attrs = command.attributes as { method: string; path: string };
    if (attrs.path === '/admin' || attrs.path.startsWith('/admin/')) {
      return { action: 'deny', ruleId: 'no-admin', message: 'the admin API is off limits' };
    }
    if (attrs.method === 'DELETE')
      return { action: 'review', ruleId: 'deletes', message: 'deletes need a human' };
    return { action: 'allow' };
  },
  masker: () => fakeMasker,
};

/** Approvals that the test answers by hand. */
export class ManualApprovals implements ApprovalBroker {
  readonly pending: { input: ApprovalRequestInput; answer: (o: ApprovalOutcome) => void }[] = [];
  #waiters: (() => void)[] = [];
  request(input: ApprovalRequestInput): Promise<ApprovalOutcome> {
    return new Promise((answer) => {
      this.pending.push({ input, answer });
      for (const w of this.#waiters.splice(0)) w();
    });
  }
  async next(): Promise<{ input: ApprovalRequestInput; answer: (o: ApprovalOutcome) => void }> {
    while (this.pending.length === 0) await new Promise<void>((r) => this.#waiters.push(r));
    return this.pending.shift() as { input: ApprovalRequestInput; answer: (o: ApprovalOutcome) => void };
  }
}

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly bodyBytes: number;
}

export type Route = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export class Upstream {
  readonly seen: SeenRequest[] = [];
  readonly routes = new Map<string, Route>();
  readonly #server: Server;
  port = 0;

  constructor() {
    this.#server = createServer((req, res) => {
      let bodyBytes = 0;
      req.on('data', (c: Buffer) => {
        bodyBytes += c.length;
      });
      req.on('end', () => {
        this.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, bodyBytes });
      });
      const path = (req.url ?? '').split('?')[0] ?? '';
      const route = this.routes.get(path) ?? this.routes.get('*');
      if (route === undefined) {
        req.resume();
        req.on('end', () => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ ok: true, path: req.url }));
        });
        return;
      }
      void route(req, res);
    });
  }

  async start(port = 0): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(port, '127.0.0.1', resolve));
    this.port = (this.#server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

export interface Bed {
  readonly gateway: Gateway;
  readonly port: number;
  readonly url: string;
  readonly log: RecordingLog;
  readonly upstream: Upstream;
  readonly approvals: ManualApprovals;
  readonly verifier: CountingVerifier;
}

export async function startBed(
  over: Partial<GatewayOptions> = {},
  options: Record<string, unknown> = {},
  upstreamPort?: number,
): Promise<Bed> {
  const upstream = new Upstream();
  await upstream.start();
  const log = new RecordingLog();
  const approvals = new ManualApprovals();
  const verifier = new CountingVerifier();
  const gateway = await Gateway.start({
    connections: [
      {
        settings: {
          name: 'api',
          protocol: 'http',
          listen: { host: '127.0.0.1', port: 0 },
          upstream: {
            url: `http://127.0.0.1:${upstreamPort ?? upstream.port}/base`,
            headers: { Authorization: UPSTREAM_SECRET, 'X-Upstream-Key': 'gateway-held-key' },
          },
          options,
        },
        access: { groups: ['agents'] },
      },
    ],
    modules: createRegistry([httpModule]),
    verifier,
    policy,
    log,
    approvals,
    logger: silentLogger,
    dataDir: '/nonexistent',
    drainTimeoutMs: 300,
    ...over,
  });
  const port = gateway.addresses()['api']?.port ?? 0;
  return { gateway, port, url: `http://127.0.0.1:${port}`, log, upstream, approvals, verifier };
}

export async function stopBed(bed: Bed | undefined): Promise<void> {
  if (bed === undefined) return;
  await bed.gateway.shutdown();
  await bed.upstream.stop();
}

export interface CurlResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface CurlResult {
  /** Every final response curl printed (several with --next), 1xx interim responses left out. */
  readonly responses: CurlResponse[];
  readonly stderr: string;
  readonly exitCode: number;
}

/** Runs real curl with `-sS -i` and splits what it prints into responses. */
export function curl(args: readonly string[], stdin?: Buffer | string): Promise<CurlResult> {
  return new Promise((resolve, reject) => {
    // `--next` resets options, so every transfer gets its own `-sS -i`.
    const perTransfer = ['-sS', '-i', '--max-time', '20'];
    const argv = [...perTransfer, ...args.flatMap((a) => (a === '--next' ? [a, ...perTransfer] : [a]))];
    const child = spawn('curl', argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({
        responses: splitResponses(Buffer.concat(out).toString('utf8')),
        stderr,
        exitCode: code ?? -1,
      });
    });
    child.stdin.end(stdin);
  });
}

export async function curl1(args: readonly string[], stdin?: Buffer | string): Promise<CurlResponse> {
  const r = await curl(args, stdin);
  const first = r.responses[0];
  if (first === undefined) throw new Error(`curl printed no response (exit ${r.exitCode}): ${r.stderr}`);
  return first;
}

function splitResponses(text: string): CurlResponse[] {
  const responses: CurlResponse[] = [];
  let rest = text;
  while (rest.startsWith('HTTP/')) {
    const headEnd = rest.indexOf('\r\n\r\n');
    if (headEnd === -1) break;
    const [statusLine = '', ...lines] = rest.slice(0, headEnd).split('\r\n');
    const status = Number(statusLine.split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    rest = rest.slice(headEnd + 4);
    if (status >= 100 && status < 200) continue;
    // The body runs until the next status line curl printed (with --next) or the end.
    const next = rest.search(/HTTP\/1\.[01] \d{3} /);
    const body = next === -1 ? rest : rest.slice(0, next);
    rest = next === -1 ? '' : rest.slice(next);
    responses.push({ status, headers, body });
  }
  return responses;
}

export function bearer(token: string): string[] {
  return ['-H', `Authorization: Bearer ${token}`];
}
