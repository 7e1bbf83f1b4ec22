import type { GatewaySession } from '@gatehouse/core';
import { type FormatCode, formatCodeAt } from '../wire/index.js';

/** Longest parameter text kept in a result event; longer values are cut (and say so). */
const MAX_PARAM_CHARS = 1024;

/**
 * Bound parameters as the session log records them: text values through the session's masker
 * (detectors: a bound e-mail address or card number is masked like one in a result), binary
 * values by size only, NULL as null.
 */
export function boundParameters(
  params: readonly (Buffer | null)[],
  formats: readonly number[],
  session: GatewaySession,
): (string | null)[] {
  const masker = session.masker();
  return params.map((p, i) => {
    if (p === null) return null;
    if (formatCodeAt(formats as readonly FormatCode[], i) !== 0) return `<binary, ${p.length} bytes>`;
    const text = p.toString('utf8');
    const masked = masker.maskValue(undefined, text);
    return masked.length > MAX_PARAM_CHARS
      ? `${masked.slice(0, MAX_PARAM_CHARS)}… (${masked.length} characters)`
      : masked;
  });
}
