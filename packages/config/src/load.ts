import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { ConfigError } from '@gatehouse/core';
import { normalizeConfig, type RawConfig } from './normalize.js';
import { NormalizeContext } from './normalize-context.js';
import { type ErrorContext, type Problem, Problems, toConfigError } from './problems.js';
import { sealConfig } from './redact.js';
import { validateAgainstSchema } from './schema-validate.js';
import { describeFsError, resolveSecretRefs } from './secret-refs.js';
import type { GatehouseConfig } from './types.js';
import { readYaml } from './yaml-source.js';

export interface ParseConfigOptions {
  /** Name used in messages and as the config's `file`; default `gatehouse.yaml`. */
  file?: string;
  /** Directory relative paths resolve against; default the directory of `file`. */
  baseDir?: string;
  /** Environment for `${env:…}`; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Protocols besides the built-ins (e.g. `test`), whose upstream is `{ host, port }`. */
  extraProtocols?: readonly string[];
}

export interface LoadConfigOptions {
  env?: Readonly<Record<string, string | undefined>>;
  extraProtocols?: readonly string[];
}

/** Reads, validates and resolves a config file. Rejects with a ConfigError only. */
export async function loadConfig(file: string, opts: LoadConfigOptions = {}): Promise<GatehouseConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read the config file: ${describeFsError(err)}`, {
      file,
      path: '',
      cause: err,
    });
  }
  return parseConfig(text, { ...opts, file });
}

/**
 * Validates config text in stages — YAML syntax, secret references, schema, then the checks the
 * schema cannot express — and throws one ConfigError listing every problem of the first stage
 * that has any: later stages would only report consequences of earlier mistakes.
 */
export function parseConfig(text: string, opts: ParseConfigOptions = {}): GatehouseConfig {
  const file = opts.file ?? 'gatehouse.yaml';
  const baseDir = resolve(opts.baseDir ?? dirname(resolve(file)));
  const env = opts.env ?? process.env;
  const extraProtocols = opts.extraProtocols ?? [];

  const yaml = readYaml(text);
  if (!yaml.ok) throw toConfigError(yaml.problems, { file });
  const { locate } = yaml.source;
  const fail = (problems: Problems | readonly Problem[], secrets: Iterable<string>) => {
    const ctx: ErrorContext = { file, locate, secrets: [...secrets] };
    return toConfigError(problems instanceof Problems ? problems.list : problems, ctx);
  };

  if (yaml.source.data === undefined || yaml.source.data === null) {
    throw fail(
      [
        {
          path: [],
          message: 'the file is empty; expected a mapping of settings (see gatehouse.example.yaml)',
        },
      ],
      [],
    );
  }
  const resolved = resolveSecretRefs(yaml.source.data, { env, baseDir });
  if (resolved.problems.length > 0) throw fail(resolved.problems, resolved.secrets);

  const secrets = new Set(resolved.secrets);
  const problems = new Problems();
  const ctx = new NormalizeContext(problems, baseDir, secrets, extraProtocols);
  const schemaProblems = validateAgainstSchema(resolved.data, extraProtocols, (v) => ctx.show(v));
  if (schemaProblems.length > 0) throw fail(schemaProblems, secrets);

  const absoluteFile = opts.baseDir === undefined ? resolve(file) : resolve(baseDir, basename(file));
  const config = normalizeConfig(resolved.data as RawConfig, absoluteFile, ctx);
  if (!problems.empty) throw fail(problems, secrets);
  return sealConfig(config, [...secrets]);
}
