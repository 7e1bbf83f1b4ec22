import { ConfigError } from '@gatehouse/core';

/** A key path into the config document: mapping keys and sequence indexes. */
export type KeyPath = readonly (string | number)[];

export interface Position {
  readonly line: number;
  readonly column: number;
}

export interface Problem {
  readonly path: KeyPath;
  readonly message: string;
  /** Point at the key itself rather than its value (unknown keys). */
  readonly atKey?: boolean;
  /** Known position, for problems that do not map to a key (YAML syntax). */
  readonly position?: Position;
}

const IDENTIFIER = /^[A-Za-z_$][\w$-]*$/;

/** `['connections', 1, 'listen']` → `connections[1].listen`; odd keys are quoted. */
export function formatPath(path: KeyPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** Collects problems of one validation stage so that an operator sees all of them at once. */
export class Problems {
  readonly list: Problem[] = [];

  add(path: KeyPath, message: string, extra: Omit<Problem, 'path' | 'message'> = {}): void {
    this.list.push({ path, message, ...extra });
  }

  get empty(): boolean {
    return this.list.length === 0;
  }
}

export interface ErrorContext {
  readonly file: string;
  /** Finds where a key path sits in the YAML source, when it can. */
  readonly locate?: ((path: KeyPath, atKey: boolean) => Position | undefined) | undefined;
  /** Values that must never appear in a message. */
  readonly secrets?: readonly string[] | undefined;
}

const MAX_LISTED = 20;

/**
 * Builds the one ConfigError a failed stage throws: the first problem (in file order) is the
 * error's own path and message; the others follow on their own lines in the same
 * `<file>: <path>: <what>` form, so the CLI shows everything with a single print.
 */
export function toConfigError(problems: readonly Problem[], ctx: ErrorContext): ConfigError {
  const located = dedupe(problems).map((p) => ({
    ...p,
    pathText: formatPath(p.path),
    position: p.position ?? ctx.locate?.(p.path, p.atKey === true),
  }));
  located.sort(
    (a, b) => (a.position?.line ?? Number.MAX_SAFE_INTEGER) - (b.position?.line ?? Number.MAX_SAFE_INTEGER),
  );
  const lines = located.slice(0, MAX_LISTED).map((p) => {
    const where =
      p.position === undefined
        ? ''
        : ` (line ${p.position.line}${p.path.length === 0 ? `, column ${p.position.column}` : ''})`;
    return `${ctx.file}: ${p.pathText === '' ? '' : `${p.pathText}: `}${p.message}${where}`;
  });
  if (located.length > MAX_LISTED)
    lines.push(`${ctx.file}: … and ${located.length - MAX_LISTED} more problems`);
  const first = located[0];
  const message = scrub(lines.join('\n'), ctx.secrets ?? []);
  return new ConfigError(message, {
    file: ctx.file,
    path: first?.pathText ?? '',
    details: {
      ...(first?.position === undefined ? {} : { line: first.position.line, column: first.position.column }),
      problems: located.map((p) => ({
        path: p.pathText,
        message: scrub(p.message, ctx.secrets ?? []),
        ...(p.position === undefined ? {} : { line: p.position.line }),
      })),
    },
  });
}

function dedupe(problems: readonly Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${formatPath(p.path)}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Last line of defence: messages are written to quote only non-secret values, but a value that
 * merely contains a secret (say a URL with an embedded token) must not slip through either.
 */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret !== '') out = out.split(secret).join('[secret]');
  }
  return out;
}
