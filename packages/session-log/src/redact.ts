export const REDACTED = '[REDACTED]';

const identity = (text: string): string => text;
const cache = new WeakMap<readonly string[], (text: string) => string>();

/**
 * Builds the function that replaces every occurrence of every secret in a string. Longer secrets
 * are matched first so that a secret containing another is removed whole, and all secrets are
 * replaced in one pass so the marker itself is never rewritten.
 */
export function secretRedactor(secrets: readonly string[] | undefined): (text: string) => string {
  if (secrets === undefined || secrets.length === 0) return identity;
  const cached = cache.get(secrets);
  if (cached !== undefined) return cached;
  const unique = [...new Set(secrets.filter((s) => typeof s === 'string' && s.length > 0))];
  let fn = identity;
  if (unique.length > 0) {
    unique.sort((a, b) => b.length - a.length);
    // Compiled on first use: most events never hold one of their secrets, and callers that pass a
    // new array per event (a request's own token) would otherwise compile a regex per event.
    let pattern: RegExp | undefined;
    fn = (text) => {
      // Most strings hold no secret; `includes` is far cheaper than running the regex.
      if (!unique.some((s) => text.includes(s))) return text;
      pattern ??= new RegExp(unique.map(escapeRegExp).join('|'), 'g');
      return text.replace(pattern, REDACTED);
    };
  }
  // Callers usually pass the same array for a whole session (the gateway's config secrets).
  cache.set(secrets, fn);
  return fn;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Removes secrets from event data, and tells cheaply whether there can be any to remove. */
export interface SecretRedaction {
  readonly redact: (text: string) => string;
  /**
   * Whether a secret may occur in the data whose canonical JSON is `json`. When false, no string
   * of the data (value or key) contains a secret: a secret with no character JSON escapes appears
   * verbatim in the text of any string holding it. Secrets with such characters always answer true.
   */
  readonly mayOccurIn: (json: string) => boolean;
}

const redactions = new WeakMap<readonly string[], SecretRedaction | undefined>();

/** undefined when there is no secret to remove. */
export function secretRedaction(secrets: readonly string[] | undefined): SecretRedaction | undefined {
  if (secrets === undefined || secrets.length === 0) return undefined;
  if (redactions.has(secrets)) return redactions.get(secrets);
  const unique = [...new Set(secrets.filter((s) => typeof s === 'string' && s.length > 0))];
  let redaction: SecretRedaction | undefined;
  if (unique.length > 0) {
    const escaped = unique.some((s) => JSON.stringify(s) !== `"${s}"`);
    redaction = {
      redact: secretRedactor(secrets),
      mayOccurIn: escaped ? () => true : (json) => unique.some((s) => json.includes(s)),
    };
  }
  redactions.set(secrets, redaction);
  return redaction;
}
