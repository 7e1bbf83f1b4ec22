import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { KeyPath, Problem } from './problems.js';
import { buildConfigSchema, schemaMessages } from './schema.js';
import { didYouMean } from './suggest.js';

const validators = new Map<string, ValidateFunction>();

/** Compiling costs milliseconds; one validator per set of extra protocols is kept. */
function validatorFor(extraProtocols: readonly string[]): ValidateFunction {
  const key = [...new Set(extraProtocols)].sort().join('\u0000');
  let validate = validators.get(key);
  if (validate === undefined) {
    // verbose: errors then carry the schema node (for message overrides) and the offending data.
    const ajv = new Ajv({ allErrors: true, verbose: true, allowUnionTypes: true, strict: true });
    validate = ajv.compile(buildConfigSchema(extraProtocols));
    validators.set(key, validate);
  }
  return validate;
}

/** `show` quotes a value for a message, or stands in for it when it holds a secret. */
export function validateAgainstSchema(
  data: unknown,
  extraProtocols: readonly string[],
  show: (value: unknown) => string,
): Problem[] {
  const validate = validatorFor(extraProtocols);
  if (validate(data)) return [];
  const problems: Problem[] = [];
  for (const err of validate.errors ?? []) {
    const problem = toProblem(err, data, show);
    if (problem !== undefined) problems.push(problem);
  }
  return problems;
}

function toProblem(err: ErrorObject, root: unknown, show: (value: unknown) => string): Problem | undefined {
  const path = pointerToPath(err.instancePath, root);
  const params = err.params as Record<string, unknown>;
  const parent = (err.parentSchema ?? {}) as Record<string, unknown>;
  const custom = err.parentSchema === undefined ? undefined : schemaMessages.get(err.parentSchema);
  switch (err.keyword) {
    // Wrappers around the errors that say what is wrong; those are reported instead.
    case 'if':
    case 'propertyNames':
      return undefined;
    case 'additionalProperties': {
      const key = String(params['additionalProperty']);
      const known = Object.keys((parent['properties'] ?? {}) as object);
      return {
        path: [...path, key],
        atKey: true,
        message: `unknown key ${JSON.stringify(key)}${didYouMean(key, known)}`,
      };
    }
    case 'required': {
      const key = String(params['missingProperty']);
      return { path: [...path, key], message: `required key ${JSON.stringify(key)} is missing` };
    }
    case 'type':
      if (custom !== undefined) return { path, message: custom(show(err.data)) };
      return { path, message: `expected ${typeWords(params['type'])}, got ${kindOf(err.data)}` };
    case 'enum':
      if (custom !== undefined) return { path, message: custom(show(err.data)) };
      return {
        path,
        message: `must be one of: ${(params['allowedValues'] as unknown[]).map(String).join(', ')} (got ${show(err.data)})`,
      };
    case 'pattern':
      if (params['propertyName'] !== undefined) {
        const name = String(params['propertyName']);
        const message =
          custom?.(JSON.stringify(name)) ?? `key ${show(name)} does not match ${String(params['pattern'])}`;
        return { path: [...path, name], atKey: true, message };
      }
      if (custom !== undefined) return { path, message: custom(show(err.data)) };
      return { path, message: `must match the pattern ${String(params['pattern'])}` };
    case 'minimum':
    case 'maximum':
      return { path, message: rangeMessage(parent, err.data) };
    case 'minLength':
      return {
        path,
        message:
          params['limit'] === 1 ? 'must not be empty' : `must be at least ${params['limit']} characters`,
      };
    case 'maxLength':
      return { path, message: `must be at most ${params['limit']} characters` };
    case 'minItems':
      return {
        path,
        message:
          params['limit'] === 1 ? 'must not be an empty list' : `needs at least ${params['limit']} items`,
      };
    default:
      return { path, message: err.message ?? `fails the ${err.keyword} check` };
  }
}

function rangeMessage(schema: Record<string, unknown>, data: unknown): string {
  const min = schema['minimum'];
  const max = schema['maximum'];
  // Listen ports also accept 0 (any free port, for tests); that is not worth advertising.
  if (max === 65535) return `port ${String(data)} is out of range (1-65535)`;
  if (typeof min === 'number' && typeof max === 'number')
    return `${String(data)} is out of range (${min}-${max})`;
  return typeof min === 'number' ? `must be at least ${min}` : `must be at most ${String(max)}`;
}

/** JSON pointer → key path, using the data to tell list indexes from digit-only mapping keys. */
function pointerToPath(pointer: string, root: unknown): KeyPath {
  if (pointer === '') return [];
  const out: (string | number)[] = [];
  let node: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      const index = Number(segment);
      out.push(index);
      node = node[index];
    } else {
      out.push(segment);
      node =
        node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[segment] : undefined;
    }
  }
  return out;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  null: 'nothing',
};

function typeWords(type: unknown): string {
  const types = Array.isArray(type) ? type : String(type).split(',');
  return types.map((t) => TYPE_WORDS[String(t)] ?? String(t)).join(' or ');
}

export function kindOf(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'number') return Number.isInteger(value) ? 'a whole number' : 'a number';
  if (typeof value === 'boolean') return 'true/false';
  if (typeof value === 'object') return 'a mapping';
  return `a ${typeof value}`;
}
