/**
 * The one thing the API server's request info takes from a field selector: for a list or watch
 * without a name in the path, `fieldSelector=metadata.name=x` makes the request name `x` (that is
 * how `kubectl get pod x -w` is authorised as a watch of one object). The grammar below is that of
 * apimachinery's `fields.ParseSelector`: terms split on unescaped `,`; each term split at the first
 * `!=`, `==` or `=`; values unescaped with `\\`, `\,`, `\=`, and an unescaped `,` or `=` left in a
 * value is an error. When the selector does not parse, the server keeps no name — and so do we.
 *
 * Pure: throws only ProtocolError.
 */
import { ProtocolError } from '@gatehouse/core';
import { isValidPathSegmentName } from './names.js';

type Term = { readonly field: string; readonly op: '=' | '==' | '!='; readonly value: string };

/** Splits on commas that are not escaped; escapes stay in the terms. */
function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let current = '';
  let inSlash = false;
  for (const ch of selector) {
    if (inSlash) inSlash = false;
    else if (ch === '\\') inSlash = true;
    else if (ch === ',') {
      terms.push(current);
      current = '';
      continue;
    }
    current += ch;
  }
  terms.push(current);
  return terms;
}

function splitTerm(term: string): Term | undefined {
  for (let i = 0; i < term.length; i++) {
    const field = term.slice(0, i);
    if (term.startsWith('!=', i)) return { field, op: '!=', value: term.slice(i + 2) };
    if (term.startsWith('==', i)) return { field, op: '==', value: term.slice(i + 2) };
    if (term[i] === '=') return { field, op: '=', value: term.slice(i + 1) };
  }
  return undefined;
}

function unescapeValue(value: string): string | undefined {
  if (!/[\\,=]/.test(value)) return value;
  let out = '';
  let inSlash = false;
  for (const ch of value) {
    if (inSlash) {
      if (ch !== '\\' && ch !== ',' && ch !== '=') return undefined;
      out += ch;
      inSlash = false;
    } else if (ch === '\\') {
      inSlash = true;
    } else if (ch === ',' || ch === '=') {
      return undefined;
    } else {
      out += ch;
    }
  }
  return inSlash ? undefined : out;
}

/** The parsed terms, or undefined when apimachinery would reject the selector. */
export function parseFieldSelector(selector: string): readonly Term[] | undefined {
  const terms: Term[] = [];
  for (const part of splitTerms(selector)) {
    if (part === '') continue;
    const term = splitTerm(part);
    if (term === undefined) return undefined;
    const value = unescapeValue(term.value);
    if (value === undefined) return undefined;
    terms.push({ ...term, value });
  }
  return terms;
}

/**
 * The name the API server takes from `metadata.name=` / `metadata.name==`, when the selector parses
 * and the name is a valid path segment. Two different required names are refused: the server
 * picks one by sorting the terms and answers with nothing, which is not worth modelling.
 */
export function nameFromFieldSelector(selector: string): string | undefined {
  const terms = parseFieldSelector(selector);
  if (terms === undefined) return undefined;
  const names = new Set(
    terms.filter((t) => t.field === 'metadata.name' && t.op !== '!=').map((t) => t.value),
  );
  if (names.size > 1) {
    throw new ProtocolError('kubernetes request query refused: fieldSelector requires two different names', {
      details: { reason: 'fieldSelector requires two different names' },
    });
  }
  const [name] = names;
  return name !== undefined && name !== '' && isValidPathSegmentName(name) ? name : undefined;
}
