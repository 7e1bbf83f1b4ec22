import { type TreeObject, treeList, unwrapNode } from '../sql/parse-tree.js';
import type { CopyLineage } from './lineage-types.js';

/** The data format of a COPY statement from its options (text, CSV or binary, and their settings). */
export function copyFormat(options: unknown): CopyLineage {
  let format: CopyLineage['format'] = 'text';
  const set: Record<string, string> = {};
  let header = false;
  for (const o of treeList(options)) {
    const d = unwrapNode(o);
    if (d?.[0] !== 'DefElem') continue;
    const name = d[1]['defname'];
    const arg = unwrapNode(d[1]['arg']);
    // libpg-query leaves empty strings out: `NULL ''` arrives without an argument.
    const value = arg === undefined ? '' : arg[0] === 'String' ? String(arg[1]['sval'] ?? '') : undefined;
    if (name === 'format' && (value === 'csv' || value === 'binary' || value === 'text')) format = value;
    else if (name === 'header') header = headerOption(arg);
    else if (typeof name === 'string' && value !== undefined) set[name] = value;
  }
  const csv = format === 'csv';
  const quote = set['quote'] ?? '"';
  return {
    format,
    delimiter: set['delimiter'] ?? (csv ? ',' : '\t'),
    null: set['null'] ?? (csv ? '' : '\\N'),
    quote,
    escape: set['escape'] ?? quote,
    header,
  };
}

/** HEADER, HEADER true/false/on/off/1/0 (libpg-query leaves false and 0 out of the tree). */
function headerOption(arg: readonly [string, TreeObject] | undefined): boolean {
  if (arg === undefined) return true;
  const [type, body] = arg;
  if (type === 'Boolean') return body['boolval'] === true;
  if (type === 'Integer') return typeof body['ival'] === 'number' && body['ival'] !== 0;
  if (type === 'String') return !['false', 'off', '0'].includes(String(body['sval'] ?? '').toLowerCase());
  return true;
}
