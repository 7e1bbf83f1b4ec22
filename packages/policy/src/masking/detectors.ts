import { emailFinder } from './email-finder.js';
import type { Finder } from './finder.js';
import { ibanFinder } from './iban-finder.js';
import { numericFinder } from './numeric-finder.js';
import { privateKeyFinder, tokenFinders } from './token-finders.js';

/** The built-in value detectors, by the name rules use. */
export const BUILTIN_DETECTORS = [
  'email',
  'card',
  'ssn',
  'phone',
  'iban',
  'jwt',
  'aws-access-key',
  'github-token',
  'slack-token',
  'stripe-key',
  'private-key',
] as const;
export type BuiltinDetector = (typeof BUILTIN_DETECTORS)[number];

export const BUILTIN_FINDERS: readonly Finder[] = [
  privateKeyFinder,
  emailFinder,
  numericFinder,
  ibanFinder,
  ...tokenFinders,
];

/**
 * What the `hash` style hashes for a detected value: equal values stay equal however they were
 * printed (`Bob@Example.com` = `bob@example.com`, `4111 1111 1111 1111` = `4111111111111111`).
 */
export function normalizeDetected(detector: string, value: string): string {
  switch (detector) {
    case 'email':
      return value.toLowerCase();
    case 'card':
    case 'ssn':
      return value.replace(/\D/g, '');
    case 'phone':
      return (value.startsWith('+') ? '+' : '') + value.replace(/\D/g, '');
    case 'iban':
      return value.replace(/\s/g, '').toUpperCase();
    default:
      return value;
  }
}
