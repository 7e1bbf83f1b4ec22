import type { ProtocolModule } from '@gatehouse/core';

/** The protocol modules a gateway can serve, keyed by protocol name. Built explicitly, never by import side effects. */
export type ProtocolRegistry = ReadonlyMap<string, ProtocolModule>;

export function createRegistry(modules: readonly ProtocolModule[]): ProtocolRegistry {
  const map = new Map<string, ProtocolModule>();
  for (const module of modules) {
    if (map.has(module.name)) throw new Error(`protocol module "${module.name}" registered twice`);
    map.set(module.name, module);
  }
  return map;
}
