import { type Document, isAlias, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { KeyPath, Position, Problem } from './problems.js';

export interface YamlSource {
  /** The document as plain data; undefined when the file holds no document. */
  readonly data: unknown;
  /** Where a key path sits in the text, for error messages. */
  locate(path: KeyPath, atKey: boolean): Position | undefined;
}

export type YamlResult = { ok: true; source: YamlSource } | { ok: false; problems: Problem[] };

/**
 * Parses one YAML document, keeping the node tree and line offsets so that later stages can report
 * `line N` for a key path. Anchors, aliases and `<<` merge keys are allowed: long connection lists
 * share settings that way. Alias expansion is capped against "billion laughs" documents.
 */
export function readYaml(text: string): YamlResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, merge: true, uniqueKeys: true, prettyErrors: true });
  const problems: Problem[] = [];
  for (const err of [...doc.errors, ...doc.warnings]) {
    const pos = err.linePos?.[0];
    problems.push({
      path: [],
      message: describeYamlError(err.code, err.message),
      ...(pos === undefined ? {} : { position: { line: pos.line, column: pos.col } }),
    });
  }
  if (problems.length > 0) return { ok: false, problems };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    // Unresolved aliases and alias bombs surface only here.
    return { ok: false, problems: [{ path: [], message: `YAML error: ${(err as Error).message}` }] };
  }
  return {
    ok: true,
    source: {
      data,
      locate: (path, atKey) => {
        const offset = findOffset(doc, path, atKey);
        if (offset === undefined) return undefined;
        const { line, col } = lineCounter.linePos(offset);
        return { line, column: col };
      },
    },
  };
}

function describeYamlError(code: string, message: string): string {
  if (code === 'MULTIPLE_DOCS') return 'YAML error: the file holds several documents (---); use one';
  if (code === 'DUPLICATE_KEY') return 'YAML error: a key appears twice in the same mapping';
  // The library appends the position and a source excerpt; the excerpt could hold a literal
  // password, and the position is reported separately.
  const head = message.replace(/ at line \d+, column \d+:[\s\S]*$/, '').trim();
  return `YAML error: ${head}`;
}

/** Walks the node tree along `path`; falls back to the deepest node reached. */
function findOffset(doc: Document, path: KeyPath, atKey: boolean): number | undefined {
  let node: unknown = doc.contents;
  let offset = rangeStart(node);
  for (let i = 0; i < path.length; i++) {
    const segment = path[i];
    if (isAlias(node)) node = node.resolve(doc);
    let next: unknown;
    let keyOffset: number | undefined;
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => isScalar(item.key) && String(item.key.value) === String(segment),
      );
      if (pair !== undefined) {
        next = pair.value;
        keyOffset = rangeStart(pair.key);
      }
    } else if (isSeq(node) && typeof segment === 'number') {
      next = node.items[segment];
    }
    if (next === undefined && keyOffset === undefined) break;
    const last = i === path.length - 1;
    offset = (last && atKey ? keyOffset : rangeStart(next)) ?? keyOffset ?? offset;
    node = next;
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range === undefined || range === null ? undefined : range[0];
}
