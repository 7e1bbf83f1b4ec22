import type { Identity } from '@gatehouse/core';

/** Who may use a connection. Empty lists mean any authenticated identity. */
export interface AccessRule {
  readonly groups?: readonly string[];
  readonly subjects?: readonly string[];
}

/**
 * Connection-level access: the identity must be one of the listed subjects or belong to one of the
 * listed groups. With neither list set, every authenticated identity may connect (policy rules
 * still judge each command).
 */
export function canUseConnection(access: AccessRule | undefined, identity: Identity): boolean {
  const groups = access?.groups ?? [];
  const subjects = access?.subjects ?? [];
  if (groups.length === 0 && subjects.length === 0) return true;
  if (subjects.includes(identity.subject)) return true;
  return identity.groups.some((g) => groups.includes(g));
}
