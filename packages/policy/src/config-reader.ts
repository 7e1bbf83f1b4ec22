import { ConfigError } from '@gatehouse/core';

/**
 * Small readers for config values. The schema normally validated the file already, but
 * `compilePolicy` is also called with hand-built objects (tests, the CLI's policy checks), and a
 * wrong type must become a ConfigError naming the key — never a crash later inside `decide`.
 */

/**
 * Appends a key to a key path: `policies` + `guard` → `policies.guard`; odd keys are quoted as
 * `policies["my set"]`, the same notation the config loader uses in its messages.
 */
export function keyPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  if (!/^[A-Za-z_$][\w$-]*$/.test(key)) return `${base}[${JSON.stringify(key)}]`;
  return base === '' ? key : `${base}.${key}`;
}

export function readList(value: unknown, path: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw new ConfigError('must be a list of strings', { path });
  if (value.length === 0) {
    throw new ConfigError('must not be empty (an empty list would match nothing); remove the key instead', {
      path,
    });
  }
  value.forEach((v, i) => {
    if (typeof v !== 'string' || v === '') {
      throw new ConfigError('must be a non-empty string', { path: keyPath(path, i) });
    }
  });
  return value as string[];
}

export function readOptionalString(value: unknown, path: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new ConfigError('must be a string', { path });
  return value;
}

export function readObject(value: unknown, path: string): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError('must be a mapping', { path });
  }
  return value as Record<string, unknown>;
}

export function readEnum<T extends string>(
  value: unknown,
  allowed: readonly T[],
  path: string,
): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(`must be one of ${allowed.join(', ')}`, { path });
  }
  return value as T;
}

/** "did you mean" for typos in names that must come from a fixed vocabulary. */
export function suggest(name: string, known: Iterable<string>): string {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const d = editDistance(name.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(name.length / 3))
    ? ` (did you mean ${best}?)`
    : '';
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return 99;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
    }
    prev = cur;
  }
  return prev[b.length] as number;
}

/** Unknown keys are mistakes (`table:` for `tables:`) that would otherwise silently match more. */
export function checkKeys(obj: Record<string, unknown>, allowed: readonly string[], path: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      throw new ConfigError(`unknown key ${JSON.stringify(key)}${suggest(key, allowed)}`, {
        path: keyPath(path, key),
      });
    }
  }
}
