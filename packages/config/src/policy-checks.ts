import { ConfigError } from '@gatehouse/core';
import { compilePolicy, type MaskingConfig, type RuleConfig, type RuleSetConfig } from '@gatehouse/policy';
import type { RawConnection } from './normalize-connections.js';
import type { NormalizeContext } from './normalize-context.js';
import type { KeyPath } from './problems.js';
import { didYouMean } from './suggest.js';

/**
 * Cross references and regexes of the policy sections: a connection's `use:` must name a defined
 * rule set, and every regex must compile, so that a typo fails the start rather than the first
 * matching command.
 */
export function checkPolicies(
  policies: Readonly<Record<string, RuleSetConfig>>,
  masking: MaskingConfig,
  connections: readonly RawConnection[],
  ctx: NormalizeContext,
): void {
  const defined = Object.keys(policies);
  for (const [name, set] of Object.entries(policies)) checkRules(set.rules, ['policies', name, 'rules'], ctx);
  connections.forEach((c, i) => {
    const path = ['connections', i, 'policy'];
    (c.policy?.use ?? []).forEach((ref, j) => {
      if (!Object.hasOwn(policies, ref)) {
        const known =
          defined.length === 0 ? 'no rule sets are defined under policies' : `defined: ${defined.join(', ')}`;
        ctx.add(
          [...path, 'use', j],
          `rule set ${ctx.show(ref)} is not defined${didYouMean(ref, defined)} (${known})`,
        );
      }
    });
    checkRules(c.policy?.rules ?? [], [...path, 'rules'], ctx);
  });
  const detectorNames = new Map<string, number>();
  (masking.detectors ?? []).forEach((d, i) => {
    const path = ['masking', 'detectors', i];
    checkRegex(d.pattern, [...path, 'pattern'], ctx);
    const earlier = detectorNames.get(d.name);
    if (earlier !== undefined) {
      ctx.add(
        [...path, 'name'],
        `duplicate detector name ${ctx.show(d.name)} (also masking.detectors[${earlier}].name)`,
      );
    } else {
      detectorNames.set(d.name, i);
    }
  });
  if (ctx.problems.empty) checkCompiles(policies, masking, connections, ctx);
}

/**
 * The engine's own compilation catches what the checks above cannot (unknown statement kinds or
 * detectors, regexes the engine refuses as too costly); running it here reports those at load,
 * with the file and line, instead of at start.
 */
function checkCompiles(
  policies: Readonly<Record<string, RuleSetConfig>>,
  masking: MaskingConfig,
  connections: readonly RawConnection[],
  ctx: NormalizeContext,
): void {
  try {
    compilePolicy({
      policies,
      connections: connections.map((c) => ({ name: c.name, policy: c.policy })),
      masking,
    });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    ctx.add(parseKeyPath(err.path ?? ''), err.message);
  }
}

/** `connections[0].policy.rules[1]` → ['connections', 0, 'policy', 'rules', 1]. */
function parseKeyPath(text: string): KeyPath {
  const path: (string | number)[] = [];
  for (const m of text.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (m[2] !== undefined) path.push(Number(m[2]));
    else if (m[1] !== undefined) path.push(m[1]);
  }
  return path;
}

function checkRules(rules: readonly RuleConfig[], path: KeyPath, ctx: NormalizeContext): void {
  rules.forEach((rule, i) => {
    if (rule.sql?.pattern !== undefined) checkRegex(rule.sql.pattern, [...path, i, 'sql', 'pattern'], ctx);
    if (rule.shell?.pattern !== undefined)
      checkRegex(rule.shell.pattern, [...path, i, 'shell', 'pattern'], ctx);
  });
}

/**
 * Compiled without flags, the most permissive JavaScript syntax; the engine adds its own flags.
 * The engine error text names the problem (e.g. "Unterminated group") without echoing much else.
 */
function checkRegex(pattern: string, path: KeyPath, ctx: NormalizeContext): void {
  try {
    new RegExp(pattern);
  } catch (err) {
    const reason = (err as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
    ctx.add(path, `invalid regular expression ${ctx.show(pattern)}: ${reason}`);
  }
}
