/** A value that survives a JSON round trip unchanged. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

const MAX_DEPTH = 64;

/**
 * Turns caller data into a plain JSON tree, passing every string (values and keys) through
 * `mapString` so redaction sees exactly what will be stored. Follows JSON.stringify's rules
 * (toJSON, dropped undefined/functions, null for non-finite numbers) so callers get no surprises,
 * except that bigints become decimal strings instead of throwing. Objects are built with their keys
 * in canonical order.
 */
export function toJsonObject(value: unknown, mapString: (text: string) => string): JsonObject {
  const tree = convert(value, mapString, 0, new Set());
  if (tree === undefined || tree === null || typeof tree !== 'object' || Array.isArray(tree)) {
    throw new TypeError('event data must be a JSON object');
  }
  return tree;
}

/**
 * toJsonObject with no string rewritten, and its canonical text, in one pass: keys are sorted
 * before the object is built (no entries array), and whether any key looks like an array index is
 * noted on the way instead of walking the tree again.
 */
export function toCanonicalObject(value: unknown): { readonly tree: JsonObject; readonly text: string } {
  const state = { indexLike: false };
  const tree = convertPlain(value, 0, new Set(), state);
  if (tree === undefined || tree === null || typeof tree !== 'object' || Array.isArray(tree)) {
    throw new TypeError('event data must be a JSON object');
  }
  return { tree, text: state.indexLike ? canonicalJson(tree) : JSON.stringify(tree) };
}

function convertPlain(
  value: unknown,
  depth: number,
  seen: Set<object>,
  state: { indexLike: boolean },
): JsonValue | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? (value === 0 ? 0 : value) : null;
    case 'bigint':
      return value.toString();
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return null;
  const obj = value as { toJSON?: unknown };
  if (typeof obj.toJSON === 'function') {
    return convertPlain((obj.toJSON as () => unknown)(), depth, seen, state);
  }
  if (depth >= MAX_DEPTH) throw new TypeError(`event data is nested deeper than ${MAX_DEPTH} levels`);
  if (seen.has(obj)) throw new TypeError('event data contains a circular reference');
  seen.add(obj);
  try {
    if (Array.isArray(value)) {
      const out: JsonValue[] = new Array(value.length);
      for (let i = 0; i < value.length; i++) out[i] = convertPlain(value[i], depth + 1, seen, state) ?? null;
      return out;
    }
    // The default sort compares UTF-16 code units, the canonical order.
    const keys = Object.keys(obj).sort();
    const out: JsonObject = {};
    for (const key of keys) {
      const item = convertPlain((obj as Record<string, unknown>)[key], depth + 1, seen, state);
      if (item === undefined) continue;
      const first = key.charCodeAt(0);
      if (first >= 48 && first <= 57 && INDEX_LIKE.test(key)) state.indexLike = true;
      setKey(out, key, item);
    }
    return out;
  } finally {
    seen.delete(obj);
  }
}

/**
 * Canonical text of a tree built by toJsonObject. Its keys are already sorted, so V8's native
 * JSON.stringify writes the canonical form — unless a key looks like an array index, which
 * JavaScript always enumerates first, in numeric order.
 */
export function canonicalJsonOfSorted(tree: JsonObject): string {
  return hasIndexLikeKey(tree) ? canonicalJson(tree) : JSON.stringify(tree);
}

function hasIndexLikeKey(value: JsonValue): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some(hasIndexLikeKey);
  for (const key in value) {
    if (INDEX_LIKE.test(key) || hasIndexLikeKey(value[key] as JsonValue)) return true;
  }
  return false;
}

const INDEX_LIKE = /^(?:0|[1-9][0-9]*)$/;

function convert(
  value: unknown,
  mapString: (text: string) => string,
  depth: number,
  seen: Set<object>,
): JsonValue | undefined {
  switch (typeof value) {
    case 'string':
      return mapString(value);
    case 'number':
      // -0 serialises as 0; normalising here keeps the returned tree equal to what is stored.
      return Number.isFinite(value) ? (value === 0 ? 0 : value) : null;
    case 'boolean':
      return value;
    case 'bigint':
      return mapString(value.toString());
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return null;
  const obj = value as { toJSON?: unknown };
  if (typeof obj.toJSON === 'function') {
    return convert((obj.toJSON as () => unknown)(), mapString, depth, seen);
  }
  if (depth >= MAX_DEPTH) throw new TypeError(`event data is nested deeper than ${MAX_DEPTH} levels`);
  if (seen.has(obj)) throw new TypeError('event data contains a circular reference');
  seen.add(obj);
  try {
    if (Array.isArray(value)) {
      return value.map((item) => convert(item, mapString, depth + 1, seen) ?? null);
    }
    const entries: [string, JsonValue][] = [];
    const keys = new Set<string>();
    for (const key of Object.keys(obj)) {
      const item = convert((obj as Record<string, unknown>)[key], mapString, depth + 1, seen);
      if (item === undefined) continue;
      const mapped = uniqueKey(keys, mapString(key));
      keys.add(mapped);
      entries.push([mapped, item]);
    }
    entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const out: JsonObject = {};
    for (const [key, item] of entries) setKey(out, key, item);
    return out;
  } finally {
    seen.delete(obj);
  }
}

/**
 * Two keys can become equal after redaction (two secrets used as keys); a duplicate key would make
 * the stored text non-canonical, so later ones get a numeric suffix.
 */
function uniqueKey(keys: ReadonlySet<string>, key: string): string {
  if (!keys.has(key)) return key;
  for (let n = 2; ; n++) {
    const candidate = `${key}#${n}`;
    if (!keys.has(candidate)) return candidate;
  }
}

export function setKey(out: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__') {
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    out[key] = value;
  }
}

/**
 * Canonical JSON: no whitespace, object keys sorted by UTF-16 code units (JavaScript's default
 * sort), strings and numbers exactly as JSON.stringify writes them. One value has one text, so the
 * hash of the text is the hash of the value.
 */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let text = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) text += ',';
      text += canonicalJson(value[i] as JsonValue);
    }
    return `${text}]`;
  }
  const keys = Object.keys(value).sort();
  let text = '{';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (i > 0) text += ',';
    text += `${JSON.stringify(key)}:${canonicalJson(value[key] as JsonValue)}`;
  }
  return `${text}}`;
}

/** Whether `text` is the canonical JSON text of an object; what verify uses on stored data. */
export function isCanonicalObjectText(text: string): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return false;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return false;
  return canonicalJson(parsed as JsonValue) === text;
}
