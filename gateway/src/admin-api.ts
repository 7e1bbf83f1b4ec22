import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  AuthError,
  type Identity,
  type Logger,
  type LogHealth,
  type TokenVerifier,
  toGatewayError,
} from '@gatehouse/core';
import { bearerToken, sendError, sendJson } from './http-util.js';
import type { GatewayMetrics } from './metrics.js';

export interface SessionFilter {
  connection?: string;
  user?: string;
  protocol?: string;
  since?: Date;
  until?: Date;
  limit?: number;
}

/** What the admin API reads from the session log. */
export interface AdminLogReader {
  listSessions(filter: SessionFilter): unknown[] | Promise<unknown[]>;
  getSession(id: string): unknown | Promise<unknown>;
  events(
    sessionId: string,
    opts: { afterSeq?: number; limit?: number; types?: string[] },
  ): unknown[] | Promise<unknown[]>;
}

/** A route handler gets the authenticated caller; extra routes (approvals) plug in this way. */
export type AdminRoute = (
  req: IncomingMessage,
  res: ServerResponse,
  params: { url: URL; caller: Identity; match: RegExpExecArray },
) => Promise<void> | void;

export interface AdminRouteSpec {
  readonly method: string;
  readonly pattern: RegExp;
  /** Groups allowed besides the admin groups (e.g. approvers). */
  readonly groups?: readonly string[];
  readonly handler: AdminRoute;
}

/**
 * A route outside `/api/` that does its own authentication (the development token endpoint, which
 * authenticates OAuth clients rather than bearer tokens).
 */
export interface OpenRouteSpec {
  readonly method: string;
  readonly path: string;
  readonly handler: (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;
}

export interface AdminApiOptions {
  readonly host: string;
  readonly port: number;
  readonly verifier: TokenVerifier;
  readonly adminGroups: readonly string[];
  readonly reader: AdminLogReader;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  readonly health: () => { log: LogHealth; sessionsOpen: number; draining: boolean };
  readonly routes?: readonly AdminRouteSpec[];
  readonly openRoutes?: readonly OpenRouteSpec[];
}

const MAX_LIMIT = 1000;

/**
 * The admin HTTP API: `/healthz` and `/metrics` for probes and scrapers (no token; the listener is
 * loopback by default), everything under `/api/` behind a bearer token from the same identity
 * provider as the data path, restricted to the admin groups.
 */
export class AdminApi {
  readonly #opts: AdminApiOptions;
  readonly #server: Server;
  readonly #started = Date.now();

  private constructor(opts: AdminApiOptions) {
    this.#opts = opts;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        const error = toGatewayError(err);
        opts.logger.error({ err: error.message, path: req.url }, 'admin API request failed');
        if (!res.headersSent) sendError(res, 500, 'internal_error', 'internal error');
        else res.destroy();
      });
    });
  }

  static async start(opts: AdminApiOptions): Promise<AdminApi> {
    const api = new AdminApi(opts);
    await new Promise<void>((resolve, reject) => {
      api.#server.once('error', reject);
      api.#server.listen(opts.port, opts.host, () => {
        api.#server.off('error', reject);
        resolve();
      });
    });
    return api;
  }

  address(): { host: string; port: number } {
    const addr = this.#server.address();
    if (addr === null || typeof addr === 'string') throw new Error('admin API is not listening');
    return { host: addr.address, port: addr.port };
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin.invalid');
    const method = req.method ?? 'GET';
    if (url.pathname === '/healthz' && method === 'GET') return this.#healthz(res);
    if (url.pathname === '/metrics' && method === 'GET') {
      const text = await this.#opts.metrics.registry.metrics();
      res.writeHead(200, { 'content-type': this.#opts.metrics.registry.contentType });
      res.end(text);
      return;
    }
    const open = (this.#opts.openRoutes ?? []).filter((r) => r.path === url.pathname);
    if (open.length > 0) {
      const route = open.find((r) => r.method === method);
      if (route === undefined) {
        res.setHeader('allow', open.map((r) => r.method).join(', '));
        return sendError(res, 405, 'method_not_allowed', `${method} not allowed here`);
      }
      return route.handler(req, res);
    }
    if (!url.pathname.startsWith('/api/')) return sendError(res, 404, 'not_found', 'no such endpoint');

    const route = this.#route(method, url.pathname);
    if (route === undefined) return sendError(res, 404, 'not_found', 'no such endpoint');
    if (route === 'method') return sendError(res, 405, 'method_not_allowed', `${method} not allowed here`);

    const caller = await this.#authenticate(req, res, route.spec.groups ?? []);
    if (caller === undefined) return;
    await route.spec.handler(req, res, { url, caller, match: route.match });
  }

  #route(
    method: string,
    path: string,
  ): { spec: AdminRouteSpec; match: RegExpExecArray } | 'method' | undefined {
    let pathMatched = false;
    for (const spec of [...this.#builtinRoutes(), ...(this.#opts.routes ?? [])]) {
      const match = spec.pattern.exec(path);
      if (match === null) continue;
      pathMatched = true;
      if (spec.method === method) return { spec, match };
    }
    return pathMatched ? 'method' : undefined;
  }

  async #authenticate(
    req: IncomingMessage,
    res: ServerResponse,
    extraGroups: readonly string[],
  ): Promise<Identity | undefined> {
    const token = bearerToken(req);
    if (token === undefined) {
      res.setHeader('www-authenticate', 'Bearer');
      sendError(res, 401, 'unauthenticated', 'a bearer token is required');
      return undefined;
    }
    let identity: Identity;
    try {
      identity = await this.#opts.verifier.verify(token);
    } catch (err) {
      const message = err instanceof AuthError ? err.message : 'token verification failed';
      res.setHeader('www-authenticate', 'Bearer error="invalid_token"');
      sendError(res, 401, 'unauthenticated', message);
      return undefined;
    }
    const allowed = [...this.#opts.adminGroups, ...extraGroups];
    if (!identity.groups.some((g) => allowed.includes(g))) {
      sendError(res, 403, 'forbidden', `identity "${identity.subject}" is not in an admin group`);
      return undefined;
    }
    return identity;
  }

  #healthz(res: ServerResponse): void {
    const { log, sessionsOpen, draining } = this.#opts.health();
    const status = !log.ok ? 'degraded' : draining ? 'draining' : 'ok';
    sendJson(res, status === 'ok' ? 200 : 503, {
      status,
      sessionsOpen,
      uptimeSeconds: Math.round((Date.now() - this.#started) / 1000),
      sessionLog: {
        ok: log.ok,
        ...(log.error === undefined ? {} : { error: log.error }),
        ...(log.lastCommitAt === undefined ? {} : { lastCommitAt: new Date(log.lastCommitAt).toISOString() }),
      },
    });
  }

  #builtinRoutes(): AdminRouteSpec[] {
    const reader = this.#opts.reader;
    return [
      {
        method: 'GET',
        pattern: /^\/api\/sessions$/,
        handler: async (_req, res, { url }) => {
          const filter = sessionFilter(url.searchParams);
          if (typeof filter === 'string') return sendError(res, 400, 'bad_request', filter);
          sendJson(res, 200, { sessions: await reader.listSessions(filter) });
        },
      },
      {
        method: 'GET',
        pattern: /^\/api\/sessions\/([A-Za-z0-9-]{1,64})$/,
        handler: async (_req, res, { match }) => {
          const session = await reader.getSession(match[1] as string);
          if (session === undefined || session === null) {
            return sendError(res, 404, 'not_found', 'no such session');
          }
          sendJson(res, 200, { session });
        },
      },
      {
        method: 'GET',
        pattern: /^\/api\/sessions\/([A-Za-z0-9-]{1,64})\/events$/,
        handler: async (_req, res, { url, match }) => {
          const id = match[1] as string;
          const session = await reader.getSession(id);
          if (session === undefined || session === null) {
            return sendError(res, 404, 'not_found', 'no such session');
          }
          const afterSeq = intParam(url.searchParams.get('afterSeq'));
          const limit = intParam(url.searchParams.get('limit'));
          if (afterSeq === null || limit === null) {
            return sendError(res, 400, 'bad_request', 'afterSeq and limit must be non-negative integers');
          }
          const types = url.searchParams.getAll('type');
          const events = await reader.events(id, {
            ...(afterSeq === undefined ? {} : { afterSeq }),
            limit: Math.min(limit ?? MAX_LIMIT, MAX_LIMIT),
            ...(types.length === 0 ? {} : { types }),
          });
          sendJson(res, 200, { events });
        },
      },
    ];
  }
}

/** undefined when absent, null when malformed. */
function intParam(value: string | null): number | undefined | null {
  if (value === null) return undefined;
  if (!/^\d{1,15}$/.test(value)) return null;
  return Number(value);
}

function sessionFilter(params: URLSearchParams): SessionFilter | string {
  const filter: SessionFilter = {};
  for (const key of ['connection', 'user', 'protocol'] as const) {
    const value = params.get(key);
    if (value !== null) filter[key] = value;
  }
  for (const key of ['since', 'until'] as const) {
    const value = params.get(key);
    if (value === null) continue;
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) return `${key} must be an ISO 8601 time`;
    filter[key] = date;
  }
  const limit = intParam(params.get('limit'));
  if (limit === null) return 'limit must be a non-negative integer';
  filter.limit = Math.min(limit ?? 100, MAX_LIMIT);
  return filter;
}
