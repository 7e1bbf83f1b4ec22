import type {
  Action,
  Decision,
  Identity,
  Masker,
  PolicyEngine,
  PolicyInput,
  ProtocolName,
} from '@gatehouse/core';
import { ConfigError } from '@gatehouse/core';
import { checkKeys, keyPath, readEnum, readList, readObject } from './config-reader.js';
import type { ConnectionPolicyConfig, MaskingConfig, RuleSetConfig } from './config-schema.js';
import { compileMasking } from './masking/compile-masking.js';
import { commandContext } from './matchers/command-context.js';
import { FORWARDING_CHANNELS } from './matchers/shell-matcher.js';
import { ACTIONS, type CompiledRule, compileRule, defaultMessage } from './rule.js';
import { readHttpUnit, readKubernetesUnit, readShellUnits, readSqlUnits } from './units.js';

/** Read-only view of a config shape, so loaders that freeze their output can pass it as is. */
type DeepReadonly<T> = T extends readonly (infer U)[]
  ? ReadonlyArray<DeepReadonly<U>>
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

export interface PolicyConfig {
  readonly policies?: Readonly<Record<string, DeepReadonly<RuleSetConfig>>> | undefined;
  readonly connections: ReadonlyArray<{
    readonly name: string;
    readonly policy?: DeepReadonly<ConnectionPolicyConfig> | undefined;
  }>;
  readonly masking?: DeepReadonly<MaskingConfig> | undefined;
}

export interface CompileOptions {
  /** Key for the `hash` masking style; overrides `masking.hashKey`. */
  readonly hashKey?: string | undefined;
}

interface CompiledConnection {
  readonly rulesByProtocol: ReadonlyMap<string, readonly CompiledRule[]>;
  /** Rules without a protocol matcher: all a command of another protocol can match. */
  readonly genericRules: readonly CompiledRule[];
  readonly defaultDecision: Decision;
}

const PROTOCOLS: readonly ProtocolName[] = ['postgres', 'ssh', 'kubernetes', 'http'];
const SEVERITY: Record<Action, number> = { allow: 0, review: 1, deny: 2 };

const builtin = (id: string, message: string): Decision =>
  Object.freeze({ action: 'deny' as const, ruleId: `builtin:${id}`, message });
const EVALUATION_FAILED = builtin('evaluation-failed', 'command denied: the policy could not evaluate it');
const TOO_DEEP = builtin('nesting-limit', 'command denied: statements nested too deeply to judge');
const FORWARDING = builtin(
  'ssh-forwarding',
  'forwarding is denied unless a rule allows this channel type explicitly (shell.channels)',
);

/**
 * Compiles the policy part of the configuration into the engine every protocol module calls.
 * All validation happens here — bad regexes, unknown rule sets, statement kinds or detectors throw
 * a ConfigError naming the key — so that `decide` does no parsing and cannot fail on config.
 */
export function compilePolicy(config: PolicyConfig, opts: CompileOptions = {}): PolicyEngine {
  const sets = compileRuleSets(config.policies);
  const connections = new Map<string, CompiledConnection>();
  if (!Array.isArray(config.connections)) throw new ConfigError('must be a list', { path: 'connections' });
  config.connections.forEach((c, i) => {
    const path = keyPath('connections', i);
    if (typeof c?.name !== 'string' || c.name === '') {
      throw new ConfigError('a connection needs a name', { path: keyPath(path, 'name') });
    }
    if (connections.has(c.name)) {
      throw new ConfigError(`duplicate connection name ${JSON.stringify(c.name)}`, {
        path: keyPath(path, 'name'),
      });
    }
    connections.set(c.name, compileConnection(c.name, c.policy, keyPath(path, 'policy'), sets));
  });
  const masking = compileMasking(config.masking, opts.hashKey);

  return {
    decide(input: PolicyInput): Decision {
      try {
        const conn = connections.get(input.connection);
        if (conn === undefined) {
          return builtin('unknown-connection', `no policy is configured for connection ${input.connection}`);
        }
        return decideFor(conn, input.identity, input.command);
      } catch {
        // Attributes come from other modules; whatever they hold, the answer is a decision.
        return EVALUATION_FAILED;
      }
    },
    masker(connection: string, identity: Identity): Masker {
      return masking.masker(connection, identity);
    },
  };
}

/** "deny by rule guard#0: DROP is not allowed" — one line for the CLI, logs and error details. */
export function explainDecision(decision: Decision): string {
  const by =
    decision.ruleId === undefined
      ? 'by default action'
      : decision.ruleId.startsWith('builtin:')
        ? `by built-in rule ${decision.ruleId.slice('builtin:'.length)}`
        : `by rule ${decision.ruleId}`;
  return `${decision.action} ${by}${decision.message === undefined ? '' : `: ${decision.message}`}`;
}

interface CompiledRuleSet {
  readonly rules: readonly CompiledRule[];
  readonly paths: readonly string[];
}

function compileRuleSets(raw: unknown): Map<string, CompiledRuleSet> {
  const sets = new Map<string, CompiledRuleSet>();
  const policies = readObject(raw, 'policies') ?? {};
  for (const [name, value] of Object.entries(policies)) {
    const path = keyPath('policies', name);
    const set = readObject(value, path) ?? {};
    checkKeys(set, ['description', 'rules'], path);
    const rulesPath = keyPath(path, 'rules');
    if (!Array.isArray(set['rules']))
      throw new ConfigError('a rule set needs a list of rules', { path: rulesPath });
    const rules = set['rules'].map((r, i) => compileRule(r, keyPath(rulesPath, i), `${name}#${i}`));
    sets.set(name, { rules, paths: rules.map((_, i) => keyPath(rulesPath, i)) });
  }
  return sets;
}

function compileConnection(
  name: string,
  raw: unknown,
  path: string,
  sets: ReadonlyMap<string, CompiledRuleSet>,
): CompiledConnection {
  const cfg = readObject(raw, path) ?? {};
  checkKeys(cfg, ['use', 'rules', 'defaultAction'], path);
  const ordered: CompiledRule[] = [];
  const origins: string[] = [];
  const usePath = keyPath(path, 'use');
  // An empty `use` (what the config loader fills in by default) just means no shared rule sets.
  const use = Array.isArray(cfg['use']) && cfg['use'].length === 0 ? undefined : cfg['use'];
  readList(use, usePath)?.forEach((ref, i) => {
    const set = sets.get(ref);
    if (set === undefined) {
      const defined = [...sets.keys()];
      throw new ConfigError(
        `rule set ${JSON.stringify(ref)} is not defined under policies` +
          (defined.length > 0 ? ` (defined: ${defined.join(', ')})` : ''),
        { path: keyPath(usePath, i) },
      );
    }
    ordered.push(...set.rules);
    origins.push(...set.paths);
  });
  const rulesPath = keyPath(path, 'rules');
  if (cfg['rules'] !== undefined && !Array.isArray(cfg['rules'])) {
    throw new ConfigError('must be a list of rules', { path: rulesPath });
  }
  ((cfg['rules'] as unknown[] | undefined) ?? []).forEach((r, i) => {
    ordered.push(compileRule(r, keyPath(rulesPath, i), `${name}#${i}`));
    origins.push(keyPath(rulesPath, i));
  });
  checkUniqueIds(ordered, origins);
  const defaultAction = readEnum(cfg['defaultAction'], ACTIONS, keyPath(path, 'defaultAction')) ?? 'allow';

  const rulesByProtocol = new Map<string, CompiledRule[]>();
  for (const p of PROTOCOLS)
    rulesByProtocol.set(
      p,
      ordered.filter((r) => r.protocols?.has(p) ?? true),
    );
  return {
    rulesByProtocol,
    genericRules: ordered.filter((r) => r.protocols === undefined),
    defaultDecision: Object.freeze({
      action: defaultAction,
      ruleId: undefined,
      message: defaultMessage(defaultAction),
    }),
  };
}

/** Two rules with one id would make "deny by rule X" ambiguous in the audit trail. */
function checkUniqueIds(rules: readonly CompiledRule[], origins: readonly string[]): void {
  const seen = new Map<string, string>();
  rules.forEach((r, i) => {
    const earlier = seen.get(r.id);
    const origin = origins[i] as string;
    if (earlier !== undefined && earlier !== origin) {
      throw new ConfigError(`duplicate rule id ${JSON.stringify(r.id)} (also ${earlier})`, {
        path: keyPath(origin, 'id'),
      });
    }
    seen.set(r.id, origin);
  });
}

/**
 * Every unit of the command (statement, simple command, request) is judged on its own by the
 * first matching rule; the command gets the most restrictive of those decisions. A command is
 * thus never treated more leniently than its parts sent one by one.
 */
function decideFor(conn: CompiledConnection, identity: Identity, command: PolicyInput['command']): Decision {
  const rules = conn.rulesByProtocol.get(command.protocol) ?? conn.genericRules;
  const text = typeof command.text === 'string' ? command.text : '';
  const attributes = command.attributes;
  switch (command.protocol) {
    case 'postgres': {
      const { statements, tooDeep } = readSqlUnits(attributes);
      if (tooDeep) return TOO_DEEP;
      const units = statements.length > 0 ? statements : [undefined];
      const ctx = commandContext(text, units.length);
      return worstOf(units, (u) => firstMatch(rules, identity, conn, (r) => r.sql?.(u, ctx) ?? true));
    }
    case 'ssh': {
      const units = readShellUnits(attributes);
      const ctx = commandContext(text, units.length);
      return worstOf(units, (u) => {
        const forwarding = u.channel !== undefined && FORWARDING_CHANNELS.has(u.channel);
        const channel = u.channel as string;
        const decision = firstMatch(rules, identity, conn, (r) => {
          if (forwarding && r.action === 'allow' && !r.forwardingChannels.has(channel)) return false;
          return r.shell?.(u, ctx) ?? true;
        });
        return forwarding && decision === conn.defaultDecision ? FORWARDING : decision;
      });
    }
    case 'kubernetes': {
      const unit = readKubernetesUnit(attributes);
      return firstMatch(rules, identity, conn, (r) => r.kubernetes?.(unit) ?? true);
    }
    case 'http': {
      const unit = readHttpUnit(attributes);
      return firstMatch(rules, identity, conn, (r) => r.http?.(unit) ?? true);
    }
    default:
      return firstMatch(rules, identity, conn, () => true);
  }
}

function firstMatch(
  rules: readonly CompiledRule[],
  identity: Identity,
  conn: CompiledConnection,
  matches: (rule: CompiledRule) => boolean,
): Decision {
  for (const r of rules) if (r.identityMatches(identity) && matches(r)) return r.decision;
  return conn.defaultDecision;
}

function worstOf<U>(units: readonly U[], judge: (unit: U) => Decision): Decision {
  let worst: Decision | undefined;
  for (const u of units) {
    const d = judge(u);
    if (worst === undefined || SEVERITY[d.action] > SEVERITY[worst.action]) worst = d;
    if (worst.action === 'deny') break;
  }
  return worst as Decision;
}
