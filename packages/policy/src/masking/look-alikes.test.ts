import { describe, expect, it } from 'vitest';
import { compileMasking } from './compile-masking.js';

/**
 * Text that looks a little like a secret but is not one must pass through untouched with every
 * built-in detector on: over-masking ids, dates and versions would make results useless.
 */
const LOOK_ALIKES = [
  'order 4111111111111112 shipped', // 16 digits, Luhn fails
  'tracking 1Z999AA10123456784',
  'version 10.2.3.4567 and 1.2.3.4',
  'released 2024-03-01, updated 2024-03-01T12:30:45.123Z, at 12:30:45',
  'epoch 1709251200 / 1709251200000',
  'compact 20240301123045',
  'id 550e8400-e29b-41d4-a716-446655440000',
  'id 12345678-1234-1234-1234-123456789012',
  'sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
  'commit 1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b',
  'ip 192.168.100.200 port 5432 and ::1',
  'amount 1,234,567.89 EUR and 1234567.89',
  'price $12,345.67 qty 100 200 300 400 500',
  'path /var/lib/postgresql/15/main/base/16384/2619',
  'url https://example.com/api/v1/orders/123456789?page=2',
  'semver package@1.2.3 and @scope/name@4.5.6',
  'zip 12345-6789 and 90210',
  'isbn 978-3-16-148410-0',
  'base64 dGhpcyBpcyBub3QgYSBzZWNyZXQ=',
  'jwt-ish eyJub3QiOiJhIGp3dCJ9.eyJ4IjoxfQ.c2ln',
  'mention @alice and email-like alice@localhost',
  'key-ish AKIA-not-a-key and ghp_short and sk_live_x',
  'BEGIN CERTIFICATE -----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----',
  'phone-ish extension x1234 and room 555',
  'invoice INV-2024-000123456',
];

describe('look-alikes with every built-in detector on', () => {
  const masker = compileMasking(undefined, undefined).masker('pg', { subject: 's', groups: [], issuer: 'i' });

  it.each(LOOK_ALIKES)('leaves %j alone', (text) => {
    expect(masker.maskText(text)).toBe(text);
  });
});
