/**
 * The host of a port forward, in the one spelling that policy judges and the upstream connects to.
 *
 * The upstream sshd resolves the host with getaddrinfo, which reads the legacy inet_aton forms:
 * `127.1`, `0x7f.1`, `0177.0.0.1`, `2130706433` and `::ffff:127.0.0.1` are all 127.0.0.1. Judged
 * as written, a rule denying `127.0.0.1:*` (or a metadata address such as 169.254.169.254) would
 * not match them while the upstream connects there all the same. So numeric hosts are rewritten
 * to their canonical form before the judgment and the forward uses that form; names are
 * lower-cased without a trailing dot; anything else (blanks, control characters, NUL, `/`) is
 * refused: no resolver treats such a string as the name policy saw.
 */
import { isIPv6 } from 'node:net';

export type CanonicalHost =
  | { readonly ok: true; readonly host: string }
  | { readonly ok: false; readonly reason: string };

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*$/;

/** One inet_aton part: decimal, octal with a leading 0, or hex with 0x. */
function atonPart(text: string): number | undefined {
  if (/^0x[0-9a-f]+$/i.test(text)) return Number.parseInt(text.slice(2), 16);
  if (/^0[0-7]*$/.test(text)) return text.length === 1 ? 0 : Number.parseInt(text.slice(1), 8);
  if (/^[1-9][0-9]*$/.test(text)) return Number(text);
  return undefined;
}

/** `a`, `a.b`, `a.b.c` or `a.b.c.d` as inet_aton reads it, or undefined when it is no address. */
export function inetAton(text: string): string | undefined {
  const parts = text.split('.');
  if (parts.length > 4) return undefined;
  const values = parts.map(atonPart);
  if (values.some((v) => v === undefined)) return undefined;
  const nums = values as number[];
  const last = nums.at(-1) as number;
  const lead = nums.slice(0, -1);
  if (lead.some((v) => v > 255) || last >= 2 ** (8 * (5 - nums.length))) return undefined;
  let value = 0;
  for (const v of lead) value = value * 256 + v;
  value = value * 2 ** (8 * (5 - nums.length)) + last;
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

function canonicalIPv6(text: string): string {
  const zone = text.indexOf('%');
  const address = zone === -1 ? text : text.slice(0, zone);
  const compressed = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(compressed);
  if (mapped !== null) {
    const hi = Number.parseInt(mapped[1] as string, 16);
    const lo = Number.parseInt(mapped[2] as string, 16);
    return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
  }
  return zone === -1 ? compressed : `${compressed}${text.slice(zone)}`;
}

export function canonicalHost(host: string): CanonicalHost {
  if (host.length === 0 || host.length > 255) return { ok: false, reason: 'the host is empty or too long' };
  const zone = host.indexOf('%');
  if (isIPv6(zone === -1 ? host : host.slice(0, zone))) {
    if (zone !== -1 && !/^%[A-Za-z0-9_.-]{1,32}$/.test(host.slice(zone))) {
      return { ok: false, reason: 'the IPv6 zone is not an interface name' };
    }
    return { ok: true, host: canonicalIPv6(host) };
  }
  const v4 = inetAton(host);
  if (v4 !== undefined) return { ok: true, host: v4 };
  const name = host.toLowerCase().replace(/\.$/, '');
  if (!HOSTNAME.test(name)) return { ok: false, reason: 'the host is neither an address nor a host name' };
  // A name made only of digits and dots that inet_aton refused (`1.2.3.4.5`, `256.1.1.1`) is no
  // name a resolver would look up either.
  if (/^[0-9.]+$/.test(name) || /^0x/i.test(name.split('.')[0] as string)) {
    return { ok: false, reason: 'the host is a malformed address' };
  }
  return { ok: true, host: name };
}
