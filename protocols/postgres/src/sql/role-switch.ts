/**
 * Role switches that do not look like `SET ROLE`. `set_config('role', 'admin', false)` is exactly
 * `SET ROLE admin`, and updating the `pg_settings` view calls set_config through a rule; a rule
 * that denies `set_role` must see both. They are reported as nested statements of the kinds that
 * the policy vocabulary gives the SET forms, so no rule needs to know these spellings.
 */
import { sqlStatementKind } from '@gatehouse/policy';

import { constantString, isTreeObject, type TreeObject, treeList, unwrapNode } from './parse-tree.js';

const SET_ROLE = sqlStatementKind('VariableSetStmt', { kind: 'VAR_SET_VALUE', name: 'role' });
const SET_SESSION_AUTHORIZATION = sqlStatementKind('VariableSetStmt', {
  kind: 'VAR_SET_VALUE',
  name: 'session_authorization',
});

/** Both kinds, for a switch whose target setting we cannot know before it runs. */
const ANY_SWITCH: readonly string[] = [SET_ROLE, SET_SESSION_AUTHORIZATION];

export interface RoleSwitchCheck {
  /** Kinds of the role switches this call makes (empty for other functions and settings). */
  readonly kinds: readonly string[];
  /** The answer read a literal's value, so texts differing only in literals may differ here. */
  readonly readLiteral: boolean;
}

const NONE: RoleSwitchCheck = { kinds: [], readLiteral: false };

/**
 * `set_config(setting_name, new_value, is_local)`. GUC names are case-insensitive. A setting name
 * that is not a constant (`set_config($1, …)`, a column, an expression) may be `role`, so it
 * counts as a switch of either kind — fail closed.
 */
export function setConfigRoleSwitch(parts: readonly string[], call: TreeObject): RoleSwitchCheck {
  if ((parts[parts.length - 1] ?? '').toLowerCase() !== 'set_config') return NONE;
  const setting = constantString(settingNameArgument(call['args']));
  if (setting === undefined) return { kinds: ANY_SWITCH, readLiteral: true };
  return { kinds: kindsForSetting(setting), readLiteral: true };
}

function settingNameArgument(args: unknown): unknown {
  const list = treeList(args);
  const first = unwrapNode(list[0]);
  if (first === undefined || first[0] !== 'NamedArgExpr') return list[0];
  // Named notation: positional arguments may only come first, so look the name up.
  for (const item of list) {
    const node = unwrapNode(item);
    if (node?.[0] === 'NamedArgExpr' && String(node[1]['name']).toLowerCase() === 'setting_name') {
      return node[1]['arg'];
    }
  }
  return undefined;
}

function kindsForSetting(setting: string): readonly string[] {
  switch (setting.toLowerCase()) {
    case 'role':
      return [SET_ROLE];
    case 'session_authorization':
      return [SET_SESSION_AUTHORIZATION];
    default:
      return [];
  }
}

/**
 * `UPDATE pg_settings SET setting = … WHERE name = 'role'`: the view's update rule calls
 * set_config for each row. Which settings change depends on the WHERE clause at run time, so any
 * update of the view counts as a switch of either kind.
 */
export function pgSettingsRoleSwitch(update: TreeObject): readonly string[] {
  const rv = update['relation'];
  if (!isTreeObject(rv) || rv['relname'] !== 'pg_settings') return [];
  const schema = rv['schemaname'];
  return schema === undefined || schema === 'pg_catalog' ? ANY_SWITCH : [];
}
