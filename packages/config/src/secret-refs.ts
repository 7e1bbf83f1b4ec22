import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { KeyPath, Problem } from './problems.js';

export interface SecretEnv {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Directory `${file:…}` paths are relative to. */
  readonly baseDir: string;
}

export interface ResolvedTree {
  readonly data: unknown;
  /** Every value a reference produced, for redaction. */
  readonly secrets: ReadonlySet<string>;
  readonly problems: readonly Problem[];
}

const MAX_SECRET_FILE_BYTES = 1024 * 1024;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Resolves `${env:NAME}` and `${file:PATH}` in every string value (never in keys) and drops keys
 * whose value is null: `key:` with nothing after it reads as "not set", which is what a section
 * with every line commented out means. Problems name the variable or file, never a value.
 */
export function resolveSecretRefs(data: unknown, opts: SecretEnv): ResolvedTree {
  const secrets = new Set<string>();
  const problems: Problem[] = [];

  const walk = (value: unknown, path: KeyPath): unknown => {
    if (typeof value === 'string') return resolveString(value, path, opts, secrets, problems);
    if (Array.isArray(value)) return value.map((item, i) => walk(item, [...path, i]));
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        if (item === null || item === undefined) continue;
        // defineProperty: a `__proto__` key must stay a plain key, not a prototype switch.
        Object.defineProperty(out, key, {
          value: walk(item, [...path, key]),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    return value;
  };

  return { data: walk(data, []), secrets, problems };
}

function resolveString(
  text: string,
  path: KeyPath,
  opts: SecretEnv,
  secrets: Set<string>,
  problems: Problem[],
): string {
  if (!text.includes('${')) return text;
  let out = '';
  let i = 0;
  while (i < text.length) {
    const start = text.indexOf('$', i);
    if (start === -1) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, start);
    if (text.startsWith('$${', start)) {
      out += '${';
      i = start + 3;
      continue;
    }
    if (!text.startsWith('${', start)) {
      out += '$';
      i = start + 1;
      continue;
    }
    const end = text.indexOf('}', start + 2);
    if (end === -1) {
      problems.push({
        path,
        message: `unterminated secret reference: "\${" without a closing "}" (write $\${ for a literal \${)`,
      });
      return text;
    }
    const body = text.slice(start + 2, end);
    const value = resolveRef(body, path, opts, problems);
    if (value === undefined) return text;
    secrets.add(value);
    out += value;
    i = end + 1;
  }
  return out;
}

function resolveRef(body: string, path: KeyPath, opts: SecretEnv, problems: Problem[]): string | undefined {
  const colon = body.indexOf(':');
  const kind = colon === -1 ? body : body.slice(0, colon);
  const arg = colon === -1 ? '' : body.slice(colon + 1);
  if (body.includes('${')) {
    problems.push({ path, message: 'secret references cannot be nested' });
    return undefined;
  }
  if (kind === 'env') {
    if (!ENV_NAME.test(arg)) {
      problems.push({ path, message: `bad environment variable name ${JSON.stringify(arg)} in \${env:…}` });
      return undefined;
    }
    const value = opts.env[arg];
    if (value === undefined || value === '') {
      problems.push({
        path,
        message: `environment variable ${arg} is ${value === undefined ? 'not set' : 'empty'}`,
      });
      return undefined;
    }
    return value;
  }
  if (kind === 'file') {
    if (arg.trim() === '') {
      problems.push({ path, message: `empty file name in \${file:…}` });
      return undefined;
    }
    return readSecretFile(arg, path, opts.baseDir, problems);
  }
  problems.push({
    path,
    message: `unknown reference "\${${kind.slice(0, 20)}…}": use \${env:NAME} or \${file:PATH} (write $\${ for a literal \${)`,
  });
  return undefined;
}

function readSecretFile(
  name: string,
  path: KeyPath,
  baseDir: string,
  problems: Problem[],
): string | undefined {
  const full = resolve(baseDir, name);
  const fail = (why: string) => {
    problems.push({ path, message: `cannot read secret file ${JSON.stringify(name)}: ${why}` });
    return undefined;
  };
  let content: string;
  try {
    // Refuse devices and FIFOs: reading /dev/zero or a pipe would hang the start.
    const stat = statSync(full);
    if (!stat.isFile()) return fail('not a regular file');
    if (stat.size > MAX_SECRET_FILE_BYTES) return fail('larger than 1 MiB');
    content = readFileSync(full, 'utf8');
  } catch (err) {
    return fail(describeFsError(err));
  }
  const trimmed = content.replace(/(\r?\n)+$/, '');
  if (trimmed === '') return fail('the file is empty');
  return trimmed;
}

export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file (ENOENT)';
    case 'EACCES':
    case 'EPERM':
      return `permission denied (${code})`;
    case 'EISDIR':
      return 'is a directory (EISDIR)';
    default:
      return code ?? 'unreadable';
  }
}
