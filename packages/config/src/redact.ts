import { inspect } from 'node:util';
import { scrub } from './problems.js';
import type { GatehouseConfig } from './types.js';

export type RedactedConfig = Omit<GatehouseConfig, 'secrets'>;

/** A plain copy for printing: every secret value inside a string becomes `[secret]`. */
export function redactConfig(config: GatehouseConfig): RedactedConfig {
  return redactValue(config, config.secrets ?? []) as RedactedConfig;
}

function redactValue(value: unknown, secrets: readonly string[]): unknown {
  if (typeof value === 'string') return scrub(value, secrets);
  if (Array.isArray(value)) return value.map((item) => redactValue(item, secrets));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      Object.defineProperty(out, key, {
        value: redactValue(item, secrets),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}

/**
 * Finishes a loaded config: attaches `secrets` out of sight, and makes every object in it
 * serialise redacted — so `JSON.stringify`, pino and `console.log` of the config or of any part
 * of it (say one upstream) never print a password — then freezes it all: nothing may change the
 * configuration the gateway started with.
 */
export function sealConfig(
  config: Omit<GatehouseConfig, 'secrets'>,
  secrets: readonly string[],
): GatehouseConfig {
  const frozenSecrets = Object.freeze([...secrets]);
  Object.defineProperty(config, 'secrets', { value: frozenSecrets, enumerable: false });
  seal(config, frozenSecrets);
  return config as GatehouseConfig;
}

function seal(value: unknown, secrets: readonly string[]): void {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return;
  // Optional settings that were not given are absent rather than present-and-undefined.
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined && !Array.isArray(value)) delete (value as Record<string, unknown>)[key];
  }
  for (const item of Object.values(value)) seal(item, secrets);
  Object.defineProperty(value, 'toJSON', {
    value(this: unknown) {
      return redactValue(this, secrets);
    },
    enumerable: false,
  });
  Object.defineProperty(value, inspect.custom, {
    value(this: unknown, _depth: number, options: object) {
      return inspect(redactValue(this, secrets), options);
    },
    enumerable: false,
  });
  Object.freeze(value);
}
