/**
 * Globs as rule authors write them. Two flavours:
 * - `name`: `*` matches any run of characters, `?` one character (programs, tables, subjects,
 *   namespaces, columns, arguments…);
 * - `path`: `*` and `?` stop at `/`, `**` crosses segments and `/**` + `/` also matches one `/`
 *   (HTTP paths, SFTP paths, non-resource URLs).
 * Wildcard patterns run as a small NFA (time linear in value × pattern length) instead of a
 * regex: a regex for `*a*a*a*b` backtracks polynomially on hostile values, and values here come
 * from clients.
 */

export interface GlobOptions {
  readonly caseInsensitive?: boolean;
  readonly path?: boolean;
}

export interface GlobSet {
  test(value: string): boolean;
  /** The patterns as written, for messages. */
  readonly patterns: readonly string[];
}

const CHAR = 0;
const ONE = 1;
const STAR = 2;

/** One compiled pattern: parallel arrays of element type, char code, and whether `/` is allowed. */
interface Program {
  readonly type: Uint8Array;
  readonly code: Uint16Array;
  readonly slash: Uint8Array;
}

export function hasWildcard(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}

function compileProgram(pattern: string, path: boolean): Program {
  const type: number[] = [];
  const code: number[] = [];
  const slash: number[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charCodeAt(i);
    if (c === 42 /* * */) {
      let crossing = !path;
      if (path && pattern.charCodeAt(i + 1) === 42) {
        crossing = true;
        while (pattern.charCodeAt(i + 1) === 42) i++;
      }
      // Consecutive stars are one star; keeping them would only slow the NFA down.
      if (type.length > 0 && type[type.length - 1] === STAR) {
        if (crossing) slash[slash.length - 1] = 1;
        continue;
      }
      type.push(STAR);
      code.push(0);
      slash.push(crossing ? 1 : 0);
    } else if (c === 63 /* ? */) {
      type.push(ONE);
      code.push(0);
      slash.push(path ? 0 : 1);
    } else {
      type.push(CHAR);
      code.push(c);
      slash.push(1);
    }
  }
  return { type: Uint8Array.from(type), code: Uint16Array.from(code), slash: Uint8Array.from(slash) };
}

// `a/**/b` must also match `a/b`: each `/**/` expands into a "dropped" and a "kept" variant.
function expandGlobstarSlash(pattern: string): string[] {
  const at = pattern.indexOf('/**/');
  if (at === -1) return [pattern];
  const rest = expandGlobstarSlash(pattern.slice(at + 4));
  const head = pattern.slice(0, at);
  return rest.flatMap((r) => [`${head}/${r}`, `${head}/**/${r}`]);
}

function run(p: Program, value: string): boolean {
  const m = p.type.length;
  let cur = new Uint8Array(m + 1);
  let next = new Uint8Array(m + 1);
  cur[0] = 1;
  closure(p, cur);
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    let any = false;
    next.fill(0);
    for (let s = 0; s < m; s++) {
      if (cur[s] === 0) continue;
      const t = p.type[s] as number;
      if (t === CHAR) {
        if (p.code[s] === c) {
          next[s + 1] = 1;
          any = true;
        }
      } else if (c !== 47 /* / */ || p.slash[s] === 1) {
        if (t === STAR) next[s] = 1;
        else next[s + 1] = 1;
        any = true;
      }
    }
    if (!any) return false;
    closure(p, next);
    const swap = cur;
    cur = next;
    next = swap;
  }
  return cur[m] === 1;
}

/** A star may match nothing: whoever reaches it also reaches the element after it. */
function closure(p: Program, states: Uint8Array): void {
  for (let s = 0; s < p.type.length; s++) {
    if (states[s] === 1 && p.type[s] === STAR) states[s + 1] = 1;
  }
}

export function compileGlobs(patterns: readonly string[], options: GlobOptions = {}): GlobSet {
  const ci = options.caseInsensitive === true;
  const path = options.path === true;
  const literals = new Set<string>();
  const programs: Program[] = [];
  for (const raw of patterns) {
    const p = ci ? raw.toLowerCase() : raw;
    if (!hasWildcard(p)) {
      literals.add(p);
      continue;
    }
    const variants = path ? expandGlobstarSlash(p) : [p];
    for (const v of variants) {
      if (hasWildcard(v)) programs.push(compileProgram(v, path));
      else literals.add(v);
    }
  }
  const frozen = [...patterns];
  if (programs.length === 0) {
    return { patterns: frozen, test: ci ? (v) => literals.has(v.toLowerCase()) : (v) => literals.has(v) };
  }
  return {
    patterns: frozen,
    test(value) {
      const v = ci ? value.toLowerCase() : value;
      if (literals.has(v)) return true;
      for (const p of programs) if (run(p, v)) return true;
      return false;
    },
  };
}

/** A glob set that matches everything; used where a condition is absent. */
export const ANY: GlobSet = { patterns: ['*'], test: () => true };
