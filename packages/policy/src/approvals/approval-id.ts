import { randomInt } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/**
 * `prefix` + 10 random base32 characters (50 bits from the CSPRNG): short enough to type in
 * `gatehouse approvals approve`, too many to guess an id of someone else's pending request.
 */
export function randomId(prefix: string, length = 10): string {
  let id = prefix;
  for (let i = 0; i < length; i++) id += ALPHABET[randomInt(ALPHABET.length)];
  return id;
}

export const newApprovalId = (): string => randomId('apr_');
export const newGrantId = (): string => randomId('grt_');
