/**
 * Masking for responses that carry Secrets: every value under a Secret's `data` and `stringData`,
 * and the copy of them that `kubectl apply` keeps in the `last-applied-configuration` annotation,
 * in single objects, lists (`items`), watch events (`object`) and Tables (`rows.object`, also
 * inside watch events). Everything else goes to the policy's masker (named fields and detectors).
 *
 * The replacement is the same for every value: `MASKED/BY/GATEHOUSE/`, which is valid base64 (so
 * typed clients still decode the Secret, `kubectl describe` shows a size) and reads as what it is
 * in `-o yaml`. Its length says nothing about the real value's.
 */
import type { Masker } from '@gatehouse/core';

export const SECRET_MASK = 'MASKED/BY/GATEHOUSE/';

/** Field paths as the JSON masker builds them (keys joined by dots, array indexes left out). */
const CONTAINERS = '(?:(?:object|items|rows\\.object)\\.)*';
const SECRET_VALUE = new RegExp(`^${CONTAINERS}(?:data|stringData)\\.`);
const LAST_APPLIED = new RegExp(
  `^${CONTAINERS}metadata\\.annotations\\.kubectl\\.kubernetes\\.io/last-applied-configuration$`,
);

export function isSecretValueField(field: string): boolean {
  return SECRET_VALUE.test(field);
}

export function isLastAppliedField(field: string): boolean {
  return LAST_APPLIED.test(field);
}

function maskMap(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  return Object.fromEntries(Object.keys(value).map((k) => [k, SECRET_MASK]));
}

/** The annotation holds the applied Secret as JSON: its values are masked, its keys kept. */
export function maskLastApplied(text: string): string {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return SECRET_MASK;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return SECRET_MASK;
  const out: Record<string, unknown> = { ...(doc as Record<string, unknown>) };
  if ('data' in out) out['data'] = maskMap(out['data']);
  if ('stringData' in out) out['stringData'] = maskMap(out['stringData']);
  return `${JSON.stringify(out)}\n`;
}

/**
 * Object bookkeeping the API server itself writes and clients hand back (resuming a watch from a
 * resourceVersion, paging with `continue`, preconditions on uid): never user data, and a detector
 * that happened to match one (a Luhn-valid revision number) would break the client.
 */
const BOOKKEEPING = new RegExp(
  `^${CONTAINERS}metadata\\.(?:resourceVersion|uid|continue|generation|creationTimestamp|deletionTimestamp)$`,
);

export function isBookkeepingField(field: string): boolean {
  return BOOKKEEPING.test(field);
}

/**
 * The masker for one Kubernetes response: bookkeeping fields pass, Secret values are replaced
 * (unless policy revealed them, or the response cannot carry Secrets), and everything else goes
 * to the policy's masker.
 *
 * `coversColumn` names the fields it treats by name — bookkeeping, Secret values, and what the
 * policy's column rules cover — so that the JSON masker sends every other field to `maskText`
 * alone; `mayDetect` and `hasDetectors` are the policy masker's.
 */
export class SecretMasker implements Masker {
  readonly #inner: Masker;
  readonly #secrets: boolean;
  readonly hasColumnRules = true;
  readonly hasDetectors: boolean;
  readonly mayDetect: ((bytes: Uint8Array, start: number, end: number) => boolean) | undefined;

  constructor(inner: Masker, options: { readonly maskSecretValues?: boolean } = {}) {
    this.#inner = inner;
    this.#secrets = options.maskSecretValues ?? true;
    this.hasDetectors = inner.hasDetectors ?? true;
    this.mayDetect = inner.mayDetect?.bind(inner);
  }

  coversColumn(column: string): boolean {
    if (isBookkeepingField(column)) return true;
    if (this.#secrets && (isSecretValueField(column) || isLastAppliedField(column))) return true;
    return this.#inner.coversColumn?.(column) ?? true;
  }

  maskValue(column: string | undefined, text: string): string {
    if (column !== undefined) {
      if (isBookkeepingField(column)) return text;
      if (this.#secrets) {
        if (isSecretValueField(column)) return SECRET_MASK;
        if (isLastAppliedField(column)) return maskLastApplied(text);
      }
    }
    return this.#inner.maskValue(column, text);
  }

  maskText(text: string): string {
    return this.#inner.maskText(text);
  }
}

/**
 * True when a request body would store the mask as a Secret value — `kubectl edit` or
 * `get -o yaml | kubectl replace` of a masked Secret — which would destroy the real values.
 */
export function writesMaskBack(body: Buffer): boolean {
  const text = body.toString('latin1');
  return text.includes(SECRET_MASK) || text.includes(SECRET_MASK.replaceAll('/', '\\/'));
}
