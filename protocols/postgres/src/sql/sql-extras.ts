import { constantString, isTreeObject, treeList, unwrapNode } from './parse-tree.js';

/**
 * Facts the relay needs beyond what policy judges, read from the analyzer's parse tree:
 * - names of prepared statements made, run and dropped by SQL (`PREPARE`, `EXECUTE` anywhere in a
 *   statement — `EXPLAIN ANALYZE EXECUTE p`, `CREATE TABLE … AS EXECUTE p` — `DEALLOCATE`,
 *   `DISCARD ALL`), since protocol-level and SQL prepared statements share one namespace;
 * - settings that would make the server read later SQL differently from the gateway's parser
 *   (client_encoding, standard_conforming_strings), which are refused.
 */
export interface SqlExtras {
  /** `PREPARE name` at statement `index`. */
  readonly prepares: readonly { readonly index: number; readonly name: string }[];
  /** Names run by `EXECUTE` inside statement `index`. */
  readonly executes: readonly { readonly index: number; readonly names: readonly string[] }[];
  /** `DEALLOCATE name` or, with name '*', `DEALLOCATE ALL` / `DISCARD ALL`. */
  readonly deallocates: readonly { readonly index: number; readonly name: string }[];
  /** Why the text is refused, when it changes a setting the gateway depends on. */
  readonly refusal: string | undefined;
}

export const NO_EXTRAS: SqlExtras = Object.freeze({
  prepares: [],
  executes: [],
  deallocates: [],
  refusal: undefined,
});

/** Words without which none of the above can be in a text: most texts skip the walk. */
const TRIGGER =
  /prepare|execute|deallocate|discard|client_encoding|names|standard_conforming|set_config|backslash_quote/i;
const GUARDED = new Set(['client_encoding', 'standard_conforming_strings', 'backslash_quote']);

export interface TreeExtras {
  readonly extras: SqlExtras;
  /** A setting's value was read from a literal: texts differing only in literals may differ. */
  readonly literalDependent: boolean;
}

const NONE: TreeExtras = Object.freeze({ extras: NO_EXTRAS, literalDependent: false });

/** The extras of `text`, parsed to `tree`. */
export function extrasFromTree(text: string, tree: unknown): TreeExtras {
  if (!TRIGGER.test(text)) return NONE;
  const prepares: { index: number; name: string }[] = [];
  const executes: { index: number; names: string[] }[] = [];
  const deallocates: { index: number; name: string }[] = [];
  const reads = { literal: false };
  let refusal: string | undefined;
  const root = isTreeObject(tree) ? tree : {};
  treeList(root['stmts']).forEach((raw, index) => {
    if (!isTreeObject(raw)) return;
    const node = unwrapNode(raw['stmt']);
    if (node === undefined) return;
    const [type, body] = node;
    if (type === 'PrepareStmt' && typeof body['name'] === 'string')
      prepares.push({ index, name: body['name'] });
    if (type === 'DeallocateStmt') {
      deallocates.push({ index, name: typeof body['name'] === 'string' ? body['name'] : '*' });
    }
    if (type === 'DiscardStmt' && body['target'] === 'DISCARD_ALL') deallocates.push({ index, name: '*' });
    const names: string[] = [];
    walk(body, (t, b) => {
      if (t === 'ExecuteStmt' && typeof b['name'] === 'string') names.push(b['name']);
      refusal ??= settingRefusal(t, b, reads);
    });
    refusal ??= settingRefusal(type, body, reads);
    if (type === 'ExecuteStmt' && typeof body['name'] === 'string') names.push(body['name']);
    if (names.length > 0) executes.push({ index, names });
  });
  if (prepares.length === 0 && executes.length === 0 && deallocates.length === 0 && refusal === undefined) {
    return { extras: NO_EXTRAS, literalDependent: reads.literal };
  }
  return {
    extras: Object.freeze({ prepares, executes, deallocates, refusal }),
    literalDependent: reads.literal,
  };
}

function walk(value: unknown, visit: (type: string, body: Readonly<Record<string, unknown>>) => void): void {
  if (Array.isArray(value)) {
    for (const v of value) walk(v, visit);
    return;
  }
  if (!isTreeObject(value)) return;
  for (const [key, child] of Object.entries(value)) {
    if (isTreeObject(child) && /^[A-Z]/.test(key)) visit(key, child);
    walk(child, visit);
  }
}

function settingRefusal(
  type: string,
  body: Readonly<Record<string, unknown>>,
  reads: { literal: boolean },
): string | undefined {
  if (type === 'VariableSetStmt') {
    const name = typeof body['name'] === 'string' ? body['name'].toLowerCase() : '';
    if (!GUARDED.has(name) || body['kind'] !== 'VAR_SET_VALUE') return undefined;
    reads.literal = true;
    const value = constantArgs(body['args']);
    return value !== undefined && safeValue(name, value) ? undefined : guardedMessage(name);
  }
  if (type === 'FuncCall') {
    const parts = treeList(body['funcname']).map((n) => stringNode(n) ?? '');
    if (parts[parts.length - 1]?.toLowerCase() !== 'set_config') return undefined;
    const args = treeList(body['args']);
    reads.literal = true;
    const name = constantString(args[0]);
    if (name === undefined) {
      return 'set_config with a setting name computed at run time is not allowed through the gateway';
    }
    if (!GUARDED.has(name.toLowerCase())) return undefined;
    const value = constantString(args[1]);
    return value !== undefined && safeValue(name.toLowerCase(), value) ? undefined : guardedMessage(name);
  }
  return undefined;
}

function guardedMessage(name: string): string {
  return `changing ${name} is not allowed through the gateway: the server would read later statements differently from how the gateway judges them`;
}

function safeValue(name: string, value: string): boolean {
  const v = value.toLowerCase().replace(/[-_\s]/g, '');
  if (name === 'client_encoding') return v === 'utf8' || v === 'unicode';
  if (name === 'standard_conforming_strings') return ['on', 'true', 'yes', '1'].includes(v);
  return false;
}

function constantArgs(args: unknown): string | undefined {
  const list = treeList(args);
  return list.length === 1 ? constantString(list[0]) : undefined;
}

function stringNode(node: unknown): string | undefined {
  const n = unwrapNode(node);
  return n !== undefined && n[0] === 'String' && typeof n[1]['sval'] === 'string' ? n[1]['sval'] : undefined;
}
