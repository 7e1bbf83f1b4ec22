import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-Gatehouse-Signature';
export const TIMESTAMP_HEADER = 'X-Gatehouse-Timestamp';
export const DELIVERY_HEADER = 'X-Gatehouse-Delivery';

/**
 * `sha256=<hex HMAC-SHA256(secret, timestamp + '.' + body)>`. The timestamp is inside the MAC so a
 * receiver that checks its age can refuse a captured delivery replayed later.
 */
export function signWebhook(secret: string, timestamp: string, body: string | Buffer): string {
  const mac = createHmac('sha256', secret);
  mac.update(`${timestamp}.`);
  mac.update(body);
  return `sha256=${mac.digest('hex')}`;
}

export interface VerifyWebhookOptions {
  /** Largest accepted age (or clock skew) of the timestamp, in seconds; default 300. 0 skips the check. */
  readonly toleranceSeconds?: number;
  readonly now?: Date;
}

/**
 * For receivers (and tests): true when `header` is the signature of `timestamp` and the raw `body`
 * under `secret`, and the timestamp is recent. Compares in constant time.
 */
export function verifyWebhookSignature(
  secret: string,
  timestamp: string | undefined,
  body: string | Buffer,
  header: string | undefined,
  options: VerifyWebhookOptions = {},
): boolean {
  if (timestamp === undefined || header === undefined || !/^\d{1,15}$/.test(timestamp)) return false;
  const tolerance = options.toleranceSeconds ?? 300;
  if (tolerance > 0) {
    const nowSeconds = Math.floor((options.now ?? new Date()).getTime() / 1000);
    if (Math.abs(nowSeconds - Number(timestamp)) > tolerance) return false;
  }
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const given = Buffer.from(header.trim());
  // timingSafeEqual needs equal lengths; the length of a well-formed signature is public anyway.
  return given.length === expected.length && timingSafeEqual(given, expected);
}
