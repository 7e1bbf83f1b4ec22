import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '@gatehouse/core';
import type { DevIssuer } from './dev-issuer.js';

/** A workload allowed to get development tokens with the OAuth 2.0 client-credentials grant. */
export interface DevClient {
  readonly id: string;
  readonly secret: string;
  /** `sub` of its tokens. */
  readonly subject: string;
  readonly groups: readonly string[];
  readonly ttlMs: number;
}

/** A token request as it arrived over HTTP; the transport (method, size limit) is checked by the caller. */
export interface TokenRequest {
  /** The `Authorization` header, when there is one. */
  readonly authorization?: string | undefined;
  /** The `Content-Type` header. */
  readonly contentType?: string | undefined;
  readonly body: string;
}

/** RFC 6749 §5.2 error codes this endpoint answers with. */
export type TokenErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'unsupported_grant_type'
  | 'invalid_scope';

export type TokenAnswer =
  | {
      readonly ok: true;
      readonly status: 200;
      readonly body: { access_token: string; token_type: 'Bearer'; expires_in: number };
      /** The client that got the token. */
      readonly client: DevClient;
    }
  | {
      readonly ok: false;
      readonly status: 400 | 401;
      readonly body: { error: TokenErrorCode; error_description: string };
      /** The configured client the request named, when it named one (the secret may still be wrong). */
      readonly clientId?: string;
    };

/** Answers token requests; never throws on bad input. */
export type TokenEndpoint = (request: TokenRequest) => Promise<TokenAnswer>;

const FORM = 'application/x-www-form-urlencoded';

/**
 * The token endpoint of the development issuer (RFC 6749 §4.4, client credentials): stands in for
 * the organisation's IdP locally, so a workload can run the same token-fetching code against
 * Gatehouse in development as against the IdP in production. Clients authenticate with HTTP Basic
 * (`client_secret_basic`) or with `client_id`/`client_secret` in the body (`client_secret_post`),
 * never both. Secrets are compared through fixed-length digests in constant time, also for an
 * unknown client id, so a probe learns nothing from timing about which ids exist.
 */
export function createDevTokenEndpoint(issuer: DevIssuer, clients: readonly DevClient[]): TokenEndpoint {
  const byId = new Map<string, { client: DevClient; digest: Buffer }>();
  for (const client of clients) {
    if (byId.has(client.id)) throw new ConfigError(`client id "${client.id}" is configured twice`);
    byId.set(client.id, { client, digest: digest(client.secret) });
  }
  const decoy = digest(randomBytes(32).toString('hex'));

  return async (request) => {
    const parsed = parseRequest(request);
    if ('error' in parsed) return parsed.error;
    const { id, secret, form } = parsed;
    const entry = byId.get(id);
    const matches = timingSafeEqual(entry?.digest ?? decoy, digest(secret));
    if (entry === undefined || !matches) {
      return refuse(401, 'invalid_client', 'client authentication failed', entry?.client.id);
    }
    const grant = form.get('grant_type');
    if (grant !== 'client_credentials') {
      return refuse(
        400,
        'unsupported_grant_type',
        'only grant_type=client_credentials is supported',
        entry.client.id,
      );
    }
    const scope = form.get('scope');
    if (scope !== null && scope.trim() !== '') {
      return refuse(400, 'invalid_scope', 'the development issuer issues no scopes', entry.client.id);
    }
    const { client } = entry;
    const token = await issuer.issue({ sub: client.subject, groups: [...client.groups], ttl: client.ttlMs });
    return {
      ok: true,
      status: 200,
      body: { access_token: token, token_type: 'Bearer', expires_in: Math.round(client.ttlMs / 1000) },
      client,
    };
  };
}

type Parsed = { id: string; secret: string; form: URLSearchParams } | { error: TokenAnswer };

function parseRequest(request: TokenRequest): Parsed {
  const type = (request.contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== FORM) {
    return { error: refuse(400, 'invalid_request', `the request body must be ${FORM}`) };
  }
  const form = new URLSearchParams(request.body);
  // RFC 6749 §3.2: parameters must not be repeated.
  for (const key of new Set(form.keys())) {
    if (form.getAll(key).length > 1) {
      return { error: refuse(400, 'invalid_request', `parameter ${key} is given more than once`) };
    }
  }
  const basic = basicCredentials(request.authorization);
  const inBody = form.has('client_secret');
  if (basic === 'malformed') {
    return { error: refuse(401, 'invalid_client', 'malformed Basic authorization header') };
  }
  if (basic !== undefined && inBody) {
    return {
      error: refuse(
        400,
        'invalid_request',
        'authenticate with the Authorization header or the body, not both',
      ),
    };
  }
  if (basic !== undefined) {
    const named = form.get('client_id');
    if (named !== null && named !== basic.id) {
      return { error: refuse(400, 'invalid_request', 'client_id differs from the authenticated client') };
    }
    return { ...basic, form };
  }
  const id = form.get('client_id');
  const secret = form.get('client_secret');
  if (id === null || secret === null) {
    return { error: refuse(401, 'invalid_client', 'client authentication is required') };
  }
  return { id, secret, form };
}

/** RFC 6749 §2.3.1: the id and secret are form-encoded, then joined with ':' and base64-encoded. */
function basicCredentials(
  header: string | undefined,
): { id: string; secret: string } | 'malformed' | undefined {
  if (header === undefined) return undefined;
  const match = /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(header);
  if (match === null) return /^Basic\b/i.test(header) ? 'malformed' : undefined;
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return 'malformed';
  try {
    const unform = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    return { id: unform(decoded.slice(0, colon)), secret: unform(decoded.slice(colon + 1)) };
  } catch {
    return 'malformed';
  }
}

function refuse(
  status: 400 | 401,
  error: TokenErrorCode,
  description: string,
  clientId?: string,
): TokenAnswer {
  return {
    ok: false,
    status,
    body: { error, error_description: description },
    ...(clientId === undefined ? {} : { clientId }),
  };
}

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}
