import { isIP } from 'node:net';
import type { ListenAddress } from './types.js';

export const DEFAULT_LISTEN_HOST = '127.0.0.1';

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export type ListenResult = { ok: true; address: ListenAddress } | { ok: false; reason: string };

/**
 * Parses `host:port`, `[v6]:port`, or a bare port (number or digits), which listens on loopback:
 * exposing a gateway port beyond the machine must be a visible decision in the file.
 * Port 0 (any free port) is accepted for tests.
 */
export function parseListen(value: string | number): ListenResult {
  if (typeof value === 'number') return portOnly(value);
  const text = value.trim();
  if (/^\d+$/.test(text)) return portOnly(Number(text));
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close === -1 || text[close + 1] !== ':') {
      return { ok: false, reason: 'expected [ipv6]:port, e.g. [::1]:15432' };
    }
    host = text.slice(1, close);
    portText = text.slice(close + 2);
    if (isIP(host) !== 6) return { ok: false, reason: 'the address in brackets is not an IPv6 address' };
  } else {
    const colon = text.lastIndexOf(':');
    if (colon === -1) return { ok: false, reason: 'expected host:port or a port, e.g. 127.0.0.1:15432' };
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (host.includes(':'))
      return { ok: false, reason: 'write an IPv6 address in brackets, e.g. [::1]:15432' };
    if (host === '') return { ok: false, reason: 'the host before ":" is empty' };
    if (isIP(host) === 0 && !HOSTNAME.test(host))
      return { ok: false, reason: 'the host is not an IP address or host name' };
  }
  if (!/^\d+$/.test(portText)) return { ok: false, reason: 'the port must be a number' };
  const port = Number(portText);
  if (port > 65535) return { ok: false, reason: `port ${port} is out of range (1-65535)` };
  return { ok: true, address: { host: host.toLowerCase(), port } };
}

function portOnly(port: number): ListenResult {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    return { ok: false, reason: `port ${port} is out of range (1-65535)` };
  }
  return { ok: true, address: { host: DEFAULT_LISTEN_HOST, port } };
}

const WILDCARDS = new Set(['0.0.0.0', '::']);
const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1']);

/**
 * Whether two listeners would fight over a socket: same port and the same host, or either bound
 * to every address. `localhost` is treated as a loopback literal, since that is what it resolves
 * to here. Port 0 never conflicts: each bind gets its own free port.
 */
export function listenOverlaps(a: ListenAddress, b: ListenAddress): boolean {
  if (a.port === 0 || a.port !== b.port) return false;
  if (WILDCARDS.has(a.host) || WILDCARDS.has(b.host)) return true;
  if (a.host === b.host) return true;
  return (
    (a.host === 'localhost' || b.host === 'localhost') &&
    LOOPBACK_NAMES.has(a.host) &&
    LOOPBACK_NAMES.has(b.host)
  );
}

export function formatListen(address: ListenAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
