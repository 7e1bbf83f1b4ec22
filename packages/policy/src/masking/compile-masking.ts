import type { Identity, Masker } from '@gatehouse/core';
import { ConfigError } from '@gatehouse/core';
import {
  checkKeys,
  keyPath,
  readEnum,
  readList,
  readObject,
  readOptionalString,
  suggest,
} from '../config-reader.js';
import { compileConfigRegex } from '../config-regex.js';
import type { MaskStyle } from '../config-schema.js';
import { compileGlobs, type GlobSet } from '../glob.js';
import { customFinder } from './custom-finder.js';
import { BUILTIN_DETECTORS, BUILTIN_FINDERS } from './detectors.js';
import type { Finder } from './finder.js';
import { createMayDetect, type MayDetect } from './prefilter.js';
import { type StyleFn, styleFunction } from './styles.js';
import { TextScanner } from './text-scanner.js';

const STYLES = ['full', 'partial', 'hash'] as const;

interface CompiledMaskingRule {
  readonly index: number;
  readonly columns: GlobSet | undefined;
  readonly detectors: readonly string[];
  readonly style: StyleFn;
  readonly connections: GlobSet | undefined;
  readonly exemptGroups: GlobSet | undefined;
  readonly exemptSubjects: GlobSet | undefined;
}

export interface MaskingEngine {
  masker(connection: string, identity: Identity): Masker;
}

/** Bounds the per-identity cache; past it the cache starts over (maskers are cheap to rebuild). */
const CACHE_LIMIT = 1024;
const COLUMN_CACHE_LIMIT = 4096;

/**
 * Compiles the `masking` section. Which rules apply depends on the connection and the identity
 * (`connections`, `exemptGroups`, `exemptSubjects`); each distinct set of applicable rules gets one
 * masker, built once and shared.
 *
 * Detectors: every detector a rule names runs in that rule's style (the first applicable rule
 * naming it wins). With `builtinDetectors: all` (the default) every built-in detector that no rule
 * names at all runs too, in `full` style — forgetting to configure masking must not leak card
 * numbers. Custom detectors are likewise on once defined.
 */
export function compileMasking(raw: unknown, hashKeyOverride: string | undefined): MaskingEngine {
  const path = 'masking';
  const cfg = readObject(raw, path) ?? {};
  checkKeys(cfg, ['hashKey', 'rules', 'detectors', 'builtinDetectors'], path);
  const hashKey = hashKeyOverride ?? readOptionalString(cfg['hashKey'], keyPath(path, 'hashKey'));
  const builtinMode =
    readEnum(cfg['builtinDetectors'], ['all', 'named'] as const, keyPath(path, 'builtinDetectors')) ?? 'all';

  const customFinders: Finder[] = [];
  const customNames = new Set<string>();
  const customPatterns = new Map<string, RegExp>();
  const detectorsPath = keyPath(path, 'detectors');
  asArray(cfg['detectors'], detectorsPath).forEach((d, i) => {
    const p = keyPath(detectorsPath, i);
    const det = readObject(d, p) ?? {};
    checkKeys(det, ['name', 'pattern', 'ignoreCase'], p);
    const name = readOptionalString(det['name'], keyPath(p, 'name'));
    if (name === undefined || name === '')
      throw new ConfigError('a detector needs a name', { path: keyPath(p, 'name') });
    if ((BUILTIN_DETECTORS as readonly string[]).includes(name) || customNames.has(name)) {
      throw new ConfigError(`detector name ${JSON.stringify(name)} is already taken`, {
        path: keyPath(p, 'name'),
      });
    }
    const source = readOptionalString(det['pattern'], keyPath(p, 'pattern'));
    if (source === undefined)
      throw new ConfigError('a detector needs a pattern', { path: keyPath(p, 'pattern') });
    const flags = det['ignoreCase'] === true ? 'gi' : 'g';
    const re = compileConfigRegex(source, flags, keyPath(p, 'pattern'));
    if (new RegExp(re.source, re.flags.replace('g', '')).test('')) {
      throw new ConfigError('pattern matches the empty string, which would mask nothing', {
        path: keyPath(p, 'pattern'),
      });
    }
    customNames.add(name);
    customPatterns.set(name, re);
    customFinders.push(customFinder(name, re));
  });
  const known = [...BUILTIN_DETECTORS, ...customNames];

  const rulesPath = keyPath(path, 'rules');
  const named = new Set<string>();
  const rules: CompiledMaskingRule[] = asArray(cfg['rules'], rulesPath).map((r, i) => {
    const p = keyPath(rulesPath, i);
    const rule = readObject(r, p) ?? {};
    checkKeys(
      rule,
      ['name', 'columns', 'detectors', 'style', 'connections', 'exemptGroups', 'exemptSubjects'],
      p,
    );
    if (typeof rule['name'] !== 'string' || rule['name'] === '') {
      throw new ConfigError('a masking rule needs a name', { path: keyPath(p, 'name') });
    }
    const style: MaskStyle = readEnum(rule['style'], STYLES, keyPath(p, 'style')) ?? 'full';
    if (style === 'hash' && hashKey === undefined) {
      throw new ConfigError('style hash needs masking.hashKey (the HMAC key that keeps hashes unguessable)', {
        path: keyPath(p, 'style'),
      });
    }
    const columns = readList(rule['columns'], keyPath(p, 'columns'));
    const detectors = readList(rule['detectors'], keyPath(p, 'detectors')) ?? [];
    detectors.forEach((d, j) => {
      if (!known.includes(d)) {
        throw new ConfigError(
          `unknown detector ${JSON.stringify(d)}${suggest(d, known)}; known: ${known.join(', ')}`,
          {
            path: keyPath(keyPath(p, 'detectors'), j),
          },
        );
      }
      named.add(d);
    });
    if (columns === undefined && detectors.length === 0) {
      throw new ConfigError('a masking rule needs columns, detectors or both', { path: p });
    }
    const globs = (key: string, ci = false): GlobSet | undefined => {
      const list = readList(rule[key], keyPath(p, key));
      return list === undefined ? undefined : compileGlobs(list, { caseInsensitive: ci });
    };
    return {
      index: i,
      columns: columns === undefined ? undefined : compileGlobs(columns, { caseInsensitive: true }),
      detectors,
      style: styleFunction(style, hashKey),
      connections: globs('connections'),
      exemptGroups: globs('exemptGroups'),
      exemptSubjects: globs('exemptSubjects'),
    };
  });

  const finders = [...BUILTIN_FINDERS, ...customFinders];
  const full = styleFunction('full', undefined);
  const defaults = new Map<string, StyleFn>();
  if (builtinMode === 'all') for (const d of BUILTIN_DETECTORS) if (!named.has(d)) defaults.set(d, full);
  for (const d of customNames) if (!named.has(d)) defaults.set(d, full);

  const byRuleSet = new Map<string, Masker>();
  const byIdentity = new Map<string, Masker>();

  const build = (applicable: readonly CompiledMaskingRule[]): Masker => {
    const styles = new Map(defaults);
    for (const r of applicable) for (const d of r.detectors) if (!styles.has(d)) styles.set(d, r.style);
    const scanner = new TextScanner(finders, styles, customNames);
    const enabled = new Set(styles.keys());
    const custom = [...customPatterns].filter(([n]) => enabled.has(n)).map(([, pattern]) => ({ pattern }));
    const mayDetect = scanner.empty ? () => false : createMayDetect(enabled, custom);
    const columnRules = applicable.filter((r) => r.columns !== undefined);
    return createMasker(scanner, mayDetect, columnRules);
  };

  return {
    masker(connection, identity) {
      const idKey = `${connection}\u0000${identity.subject}\u0000${identity.groups.join('\u0001')}`;
      const cached = byIdentity.get(idKey);
      if (cached !== undefined) return cached;
      const applicable = rules.filter((r) => applies(r, connection, identity));
      const setKey = applicable.map((r) => r.index).join(',');
      let masker = byRuleSet.get(setKey);
      if (masker === undefined) {
        masker = build(applicable);
        byRuleSet.set(setKey, masker);
      }
      if (byIdentity.size >= CACHE_LIMIT) byIdentity.clear();
      byIdentity.set(idKey, masker);
      return masker;
    },
  };
}

function applies(rule: CompiledMaskingRule, connection: string, identity: Identity): boolean {
  if (rule.connections !== undefined && !rule.connections.test(connection)) return false;
  if (rule.exemptSubjects?.test(identity.subject)) return false;
  if (rule.exemptGroups !== undefined && identity.groups.some((g) => rule.exemptGroups?.test(g)))
    return false;
  return true;
}

function createMasker(
  scanner: TextScanner,
  mayDetect: MayDetect,
  columnRules: readonly CompiledMaskingRule[],
): Required<Masker> {
  const columnCache = new Map<string, CompiledMaskingRule | null>();
  const ruleFor = (column: string): CompiledMaskingRule | null => {
    let hit = columnCache.get(column);
    if (hit !== undefined) return hit;
    // A JSON path such as `customer.email` is also matched by its last field name.
    const dot = column.lastIndexOf('.');
    const leaf = dot === -1 ? undefined : column.slice(dot + 1);
    hit =
      columnRules.find((r) => r.columns?.test(column) || (leaf !== undefined && r.columns?.test(leaf))) ??
      null;
    if (columnCache.size >= COLUMN_CACHE_LIMIT) columnCache.clear();
    columnCache.set(column, hit);
    return hit;
  };
  const maskText = (text: string): string => scanner.mask(text);
  const hasColumnRules = columnRules.length > 0;
  return {
    maskText,
    maskValue(column, text) {
      if (column !== undefined && hasColumnRules) {
        const rule = ruleFor(column);
        // An empty value hides nothing; masking it would only turn '' into a mask.
        if (rule !== null) return text === '' ? text : rule.style(text, text);
      }
      return maskText(text);
    },
    mayDetect,
    coversColumn: (column) => hasColumnRules && ruleFor(column) !== null,
    hasColumnRules,
    hasDetectors: !scanner.empty,
  };
}

function asArray(value: unknown, path: string): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ConfigError('must be a list', { path });
  return value;
}
