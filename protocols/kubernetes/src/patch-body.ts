/**
 * PATCH bodies are forwarded only when they decode as the API server will decode them: a request
 * the gateway cannot read is one whose effect policy could not have been told about.
 *
 * - `application/json-patch+json`: a JSON array of operation objects, each with a known `op`
 *   and a string `path` (plus `from` for move/copy);
 * - `application/merge-patch+json`, `application/strategic-merge-patch+json`: a JSON object;
 * - `application/apply-patch+yaml` (server-side apply): one YAML (or JSON) document that is a
 *   mapping, without duplicate keys.
 * Anything else (`application/apply-patch+cbor`, compressed bodies) is refused.
 */
import { parseDocument } from 'yaml';

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

export type PatchCheck =
  | { readonly ok: true; readonly type: PatchType }
  | { readonly ok: false; readonly code: 400 | 415; readonly message: string };

const TYPES: Readonly<Record<string, PatchType>> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
};

const JSON_PATCH_OPS = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function patchTypeOf(contentType: string | undefined): PatchType | undefined {
  const mime = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return TYPES[mime];
}

export function checkPatchBody(contentType: string | undefined, body: Buffer): PatchCheck {
  const type = patchTypeOf(contentType);
  if (type === undefined) {
    const given = (contentType ?? '').split(';')[0]?.trim() || 'none';
    return {
      ok: false,
      code: 415,
      message: `the gateway forwards patches of type application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json and application/apply-patch+yaml only (got ${given})`,
    };
  }
  const text = new TextDecoder('utf-8', { fatal: true });
  let source: string;
  try {
    source = text.decode(body);
  } catch {
    return { ok: false, code: 400, message: 'the patch body is not UTF-8' };
  }
  const bad = (why: string): PatchCheck => ({
    ok: false,
    code: 400,
    message: `the ${type} patch does not decode: ${why}`,
  });
  if (type === 'apply') {
    const doc = parseDocument(source, { uniqueKeys: true, prettyErrors: false });
    if (doc.errors.length > 0) return bad(doc.errors[0]?.message ?? 'invalid YAML');
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
      // The server turns the YAML into JSON: an alias that contains itself cannot be.
      JSON.stringify(value);
    } catch (err) {
      return bad((err as Error).message);
    }
    return isObject(value) ? { ok: true, type } : bad('the applied configuration is not a mapping');
  }
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (err) {
    return bad((err as Error).message);
  }
  if (type !== 'json')
    return isObject(value) ? { ok: true, type } : bad('a merge patch must be a JSON object');
  if (!Array.isArray(value)) return bad('a JSON patch must be an array of operations');
  for (const [i, op] of value.entries()) {
    if (!isObject(op) || typeof op['op'] !== 'string' || !JSON_PATCH_OPS.has(op['op'])) {
      return bad(`operation ${i} has no known "op"`);
    }
    if (typeof op['path'] !== 'string') return bad(`operation ${i} has no "path"`);
    if ((op['op'] === 'move' || op['op'] === 'copy') && typeof op['from'] !== 'string') {
      return bad(`operation ${i} (${op['op']}) has no "from"`);
    }
    if (['add', 'replace', 'test'].includes(op['op']) && !('value' in op)) {
      return bad(`operation ${i} (${op['op']}) has no "value"`);
    }
  }
  return { ok: true, type };
}
