import { Buffer } from 'node:buffer';
import type { Emit, Finder } from './finder.js';

interface TokenShape {
  readonly name: string;
  /** Literal substrings one of which must be present; checked with indexOf before any regex runs. */
  readonly triggers: readonly string[];
  readonly pattern: RegExp;
  readonly valid?: (match: string) => boolean;
}

/** A JWT's header is base64url JSON naming its algorithm; that rules out look-alike dotted ids. */
function jwtHeaderValid(token: string): boolean {
  const header = token.slice(0, token.indexOf('.'));
  // `{"alg":"x"}` is 15 characters encoded; cheap checks first, since JSON.parse failing by
  // exception on every `eyJ…` look-alike of a hostile text would be slow.
  if (header.length < 15) return false;
  const json = Buffer.from(header, 'base64url').toString('utf8');
  if (!json.includes('"alg"')) return false;
  try {
    const parsed: unknown = JSON.parse(json);
    return (
      typeof parsed === 'object' && parsed !== null && typeof (parsed as { alg?: unknown }).alg === 'string'
    );
  } catch {
    return false;
  }
}

const SHAPES: readonly TokenShape[] = [
  {
    name: 'jwt',
    triggers: ['eyJ'],
    pattern: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g,
    valid: jwtHeaderValid,
  },
  {
    name: 'aws-access-key',
    triggers: ['AKIA', 'ASIA'],
    pattern: /(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])/g,
  },
  {
    name: 'github-token',
    triggers: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_'],
    pattern: /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})(?![A-Za-z0-9_])/g,
  },
  {
    name: 'slack-token',
    triggers: ['xox'],
    pattern: /(?<![A-Za-z0-9])xox[abprse]-[A-Za-z0-9-]{10,}/g,
  },
  {
    name: 'stripe-key',
    triggers: ['k_live_', 'k_test_'],
    pattern: /(?<![A-Za-z0-9])[sr]k_(?:live|test)_[A-Za-z0-9]{10,}/g,
  },
];

function hasTrigger(text: string, triggers: readonly string[]): boolean {
  for (const t of triggers) if (text.includes(t)) return true;
  return false;
}

/** Fixed-shape credentials: cheap literal gates first, a linear regex only when a gate opens. */
export const tokenFinders: readonly Finder[] = SHAPES.map((shape) => ({
  detects: [shape.name],
  find(text: string, _wanted: ReadonlySet<string>, emit: Emit): void {
    if (!hasTrigger(text, shape.triggers)) return;
    const re = shape.pattern;
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      if (shape.valid === undefined || shape.valid(m[0])) emit(shape.name, m.index, m.index + m[0].length);
    }
  },
}));

const PEM_BEGIN = /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/y;
const PEM_END = /-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/y;

/**
 * PEM / OpenSSH / PGP private key blocks from BEGIN to END. A block without its END line (cut by a
 * row limit or a chunk boundary) is masked to the end of the text: what follows BEGIN is key.
 */
export const privateKeyFinder: Finder = {
  detects: ['private-key'],
  find(text: string, _wanted: ReadonlySet<string>, emit: Emit): void {
    let from = text.indexOf('-----BEGIN ');
    while (from !== -1) {
      const begin = PEM_BEGIN;
      begin.lastIndex = from;
      if (!begin.test(text)) {
        from = text.indexOf('-----BEGIN ', from + 1);
        continue;
      }
      let end = text.length;
      let search = text.indexOf('-----END ', begin.lastIndex);
      while (search !== -1) {
        const endRe = PEM_END;
        endRe.lastIndex = search;
        if (endRe.test(text)) {
          end = endRe.lastIndex;
          break;
        }
        search = text.indexOf('-----END ', search + 1);
      }
      emit('private-key', from, end);
      from = end >= text.length ? -1 : text.indexOf('-----BEGIN ', end);
    }
  },
};
