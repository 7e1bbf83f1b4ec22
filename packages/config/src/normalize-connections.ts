import { readFileSync } from 'node:fs';
import type { ConnectionPolicyConfig } from '@gatehouse/policy';
import { formatListen, listenOverlaps, parseListen } from './listen.js';
import type { NormalizeContext } from './normalize-context.js';
import type { KeyPath } from './problems.js';
import { describeFsError } from './secret-refs.js';
import type {
  AdminConfig,
  ConnectionConfig,
  HostPortUpstreamConfig,
  HttpUpstreamConfig,
  KubernetesUpstreamConfig,
  ListenAddress,
  PostgresUpstreamConfig,
  SshUpstreamConfig,
} from './types.js';

export interface RawConnection {
  name: string;
  protocol: string;
  listen: string | number;
  access?: { groups?: string[]; subjects?: string[] };
  upstream: Record<string, unknown>;
  policy?: ConnectionPolicyConfig;
  options?: Record<string, unknown>;
}

const INVALID_LISTEN: ListenAddress = { host: '127.0.0.1', port: 0 };

export function normalizeConnections(
  raw: readonly RawConnection[],
  admin: AdminConfig,
  ctx: NormalizeContext,
): ConnectionConfig[] {
  const out = raw.map((c, i) => normalizeConnection(c, ['connections', i], ctx));
  checkUniqueNames(out, ctx);
  checkListenConflicts(out, admin, ctx);
  return out;
}

function normalizeConnection(raw: RawConnection, path: KeyPath, ctx: NormalizeContext): ConnectionConfig {
  const parsed = parseListen(raw.listen);
  if (!parsed.ok)
    ctx.add([...path, 'listen'], `bad listen address ${ctx.show(raw.listen)}: ${parsed.reason}`);
  const listen = parsed.ok ? parsed.address : INVALID_LISTEN;
  const access = { groups: raw.access?.groups ?? [], subjects: raw.access?.subjects ?? [] };
  const policy = {
    use: raw.policy?.use ?? [],
    rules: raw.policy?.rules ?? [],
    ...(raw.policy?.defaultAction === undefined ? {} : { defaultAction: raw.policy.defaultAction }),
  };
  const options = raw.options ?? {};
  const name = raw.name;
  const upPath = [...path, 'upstream'];
  const up = raw.upstream;
  switch (raw.protocol) {
    case 'postgres':
      return {
        name,
        protocol: 'postgres',
        listen,
        access,
        upstream: postgresUpstream(up, ctx),
        policy,
        options,
      };
    case 'ssh':
      return {
        name,
        protocol: 'ssh',
        listen,
        access,
        upstream: sshUpstream(up, upPath, ctx),
        policy,
        options,
      };
    case 'kubernetes':
      return {
        name,
        protocol: 'kubernetes',
        listen,
        access,
        upstream: kubernetesUpstream(up, ctx),
        policy,
        options,
      };
    case 'http':
      return {
        name,
        protocol: 'http',
        listen,
        access,
        upstream: httpUpstream(up, upPath, ctx),
        policy,
        options,
      };
    default: {
      // The schema already limited `protocol` to the built-ins and the extra protocols.
      const upstream = { host: up['host'], port: up['port'] } as HostPortUpstreamConfig;
      return { name, protocol: raw.protocol, listen, access, upstream, policy, options };
    }
  }
}

function postgresUpstream(up: Record<string, unknown>, ctx: NormalizeContext): PostgresUpstreamConfig {
  const tls = (up['tls'] ?? {}) as { mode?: PostgresUpstreamConfig['tls']['mode']; ca?: string };
  return {
    host: up['host'] as string,
    port: (up['port'] as number | undefined) ?? 5432,
    database: up['database'] as string | undefined,
    user: up['user'] as string,
    password: ctx.secret(up['password'] as string | undefined),
    tls: { mode: tls.mode ?? 'disable', ca: tls.ca === undefined ? undefined : ctx.path(tls.ca) },
  };
}

const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}=?$/;
const KEY_LINE =
  /(^|\s)(ssh-(rsa|dss|ed25519|ed448)|ecdsa-sha2-nistp(256|384|521)|sk-[a-z0-9@.-]+)\s+[A-Za-z0-9+/]+={0,2}(\s|$)/;

function sshUpstream(up: Record<string, unknown>, path: KeyPath, ctx: NormalizeContext): SshUpstreamConfig {
  const hostKey = up['hostKey'] as string;
  if (!FINGERPRINT.test(hostKey.trim()) && !KEY_LINE.test(hostKey.trim())) {
    ctx.add(
      [...path, 'hostKey'],
      'expected a known_hosts line or public key ("ssh-ed25519 AAAA…") or a fingerprint ("SHA256:…", as ssh-keygen -lf prints)',
    );
  }
  return {
    host: up['host'] as string,
    port: (up['port'] as number | undefined) ?? 22,
    user: up['user'] as string | undefined,
    password: ctx.secret(up['password'] as string | undefined),
    privateKey: ctx.secret(privateKey(up['privateKey'] as string | undefined, [...path, 'privateKey'], ctx)),
    hostKey: hostKey.trim(),
  };
}

/** Key material is needed as text; a path is read now so that a missing key fails the start. */
function privateKey(value: string | undefined, path: KeyPath, ctx: NormalizeContext): string | undefined {
  if (value === undefined || value.includes('-----BEGIN ')) return value;
  try {
    return readFileSync(ctx.path(value), 'utf8');
  } catch (err) {
    ctx.add(path, `cannot read private key file ${ctx.show(value)}: ${describeFsError(err)}`);
    return undefined;
  }
}

function kubernetesUpstream(up: Record<string, unknown>, ctx: NormalizeContext): KubernetesUpstreamConfig {
  return { kubeconfig: ctx.path(up['kubeconfig'] as string), context: up['context'] as string | undefined };
}

function httpUpstream(up: Record<string, unknown>, path: KeyPath, ctx: NormalizeContext): HttpUpstreamConfig {
  return {
    url: ctx.httpUrl([...path, 'url'], up['url'] as string),
    headers: (up['headers'] as Record<string, string> | undefined) ?? {},
  };
}

function checkUniqueNames(connections: readonly ConnectionConfig[], ctx: NormalizeContext): void {
  const first = new Map<string, number>();
  connections.forEach((c, i) => {
    const earlier = first.get(c.name);
    if (earlier === undefined) first.set(c.name, i);
    else
      ctx.add(
        ['connections', i, 'name'],
        `duplicate connection name ${ctx.show(c.name)} (also connections[${earlier}].name)`,
      );
  });
}

/** Two listeners on one socket would fail at bind time, after half the gateway has started. */
function checkListenConflicts(
  connections: readonly ConnectionConfig[],
  admin: AdminConfig,
  ctx: NormalizeContext,
): void {
  const taken: { listen: ListenAddress; where: string }[] = [];
  if (admin.enabled) taken.push({ listen: admin.listen, where: 'admin.listen' });
  connections.forEach((c, i) => {
    if (c.listen === INVALID_LISTEN) return;
    const clash = taken.find((t) => listenOverlaps(t.listen, c.listen));
    if (clash !== undefined) {
      ctx.add(
        ['connections', i, 'listen'],
        `${formatListen(c.listen)} overlaps ${clash.where} (${formatListen(clash.listen)}): two listeners on one port`,
      );
    }
    taken.push({ listen: c.listen, where: `connections[${i}].listen` });
  });
}
