import type { Action, Decision, Identity, ProtocolName } from '@gatehouse/core';
import { ConfigError } from '@gatehouse/core';
import { checkKeys, keyPath, readEnum, readList, readObject, readOptionalString } from './config-reader.js';
import { compileGlobs, type GlobSet } from './glob.js';
import { compileHttpMatcher, type HttpMatcher } from './matchers/http-matcher.js';
import { compileKubernetesMatcher, type KubernetesMatcher } from './matchers/kubernetes-matcher.js';
import { compileShellMatcher, FORWARDING_CHANNELS, type ShellMatcher } from './matchers/shell-matcher.js';
import { compileSqlMatcher, type SqlMatcher } from './matchers/sql-matcher.js';

export const ACTIONS = ['allow', 'deny', 'review'] as const;

const RULE_KEYS = [
  'id',
  'action',
  'message',
  'subjects',
  'notSubjects',
  'groups',
  'notGroups',
  'sql',
  'shell',
  'kubernetes',
  'http',
] as const;

/** Which protocol each matcher key belongs to. */
const MATCHER_PROTOCOL = { sql: 'postgres', shell: 'ssh', kubernetes: 'kubernetes', http: 'http' } as const;

export interface CompiledRule {
  readonly id: string;
  readonly action: Action;
  /** The decision this rule returns, built once. */
  readonly decision: Decision;
  /** Protocols this rule can match; undefined when it has no protocol matcher (matches any). */
  readonly protocols: ReadonlySet<ProtocolName> | undefined;
  readonly sql: SqlMatcher | undefined;
  readonly shell: ShellMatcher | undefined;
  readonly kubernetes: KubernetesMatcher | undefined;
  readonly http: HttpMatcher | undefined;
  /** Forwarding channels named in `shell.channels`: only these can an allow rule open. */
  readonly forwardingChannels: ReadonlySet<string>;
  identityMatches(identity: Identity): boolean;
}

const DEFAULT_MESSAGES: Record<Action, string | undefined> = {
  allow: undefined,
  deny: 'command denied by policy',
  review: 'command requires approval',
};

export function defaultMessage(action: Action): string | undefined {
  return DEFAULT_MESSAGES[action];
}

export function compileRule(raw: unknown, path: string, fallbackId: string): CompiledRule {
  const cfg = readObject(raw, path);
  if (cfg === undefined) throw new ConfigError('a rule is required here', { path });
  checkKeys(cfg, RULE_KEYS, path);
  const action = readEnum(cfg['action'], ACTIONS, keyPath(path, 'action'));
  if (action === undefined) {
    throw new ConfigError(`action is required (one of ${ACTIONS.join(', ')})`, {
      path: keyPath(path, 'action'),
    });
  }
  const id = readOptionalString(cfg['id'], keyPath(path, 'id')) ?? fallbackId;
  if (id === '') throw new ConfigError('must not be empty', { path: keyPath(path, 'id') });
  const message = readOptionalString(cfg['message'], keyPath(path, 'message'));
  const broad = action !== 'allow';

  const globs = (key: string): GlobSet | undefined => {
    const list = readList(cfg[key], keyPath(path, key));
    return list === undefined ? undefined : compileGlobs(list);
  };
  const subjects = globs('subjects');
  const notSubjects = globs('notSubjects');
  const groups = globs('groups');
  const notGroups = globs('notGroups');

  const protocols = new Set<ProtocolName>();
  for (const [key, protocol] of Object.entries(MATCHER_PROTOCOL)) {
    if (cfg[key] !== undefined) protocols.add(protocol);
  }
  const shellCfg = readObject(cfg['shell'], keyPath(path, 'shell'));
  const channelList = Array.isArray(shellCfg?.['channels']) ? (shellCfg['channels'] as unknown[]) : [];

  const anyGroup = (identity: Identity, set: GlobSet): boolean => {
    for (const g of identity.groups) if (set.test(g)) return true;
    return false;
  };

  return {
    id,
    action,
    decision: Object.freeze({ action, ruleId: id, message: message ?? defaultMessage(action) }),
    protocols: protocols.size === 0 ? undefined : protocols,
    sql: cfg['sql'] === undefined ? undefined : compileSqlMatcher(cfg['sql'], keyPath(path, 'sql'), broad),
    shell: shellCfg === undefined ? undefined : compileShellMatcher(shellCfg, keyPath(path, 'shell'), broad),
    kubernetes:
      cfg['kubernetes'] === undefined
        ? undefined
        : compileKubernetesMatcher(cfg['kubernetes'], keyPath(path, 'kubernetes'), broad),
    http:
      cfg['http'] === undefined ? undefined : compileHttpMatcher(cfg['http'], keyPath(path, 'http'), broad),
    forwardingChannels: new Set(
      channelList.filter((c): c is string => typeof c === 'string' && FORWARDING_CHANNELS.has(c)),
    ),
    identityMatches(identity) {
      if (subjects !== undefined && !subjects.test(identity.subject)) return false;
      if (notSubjects?.test(identity.subject)) return false;
      if (groups !== undefined && !anyGroup(identity, groups)) return false;
      if (notGroups !== undefined && anyGroup(identity, notGroups)) return false;
      return true;
    },
  };
}
