import type { Masker } from '@gatehouse/core';

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g;
const CARD = /\b\d{4}(?:[ -]?\d{4}){3}\b/g;

/**
 * A masker with two detectors (emails, 16-digit cards) and one named field (`ssn`), enough to see
 * what the HTTP module hands to the policy engine's masker and what it does with the answer.
 */
export const fakeMasker: Masker = {
  maskText: (text) => text.replace(EMAIL, '[email]').replace(CARD, '[card]'),
  // Like the real masker, a field path (`customer.ssn`) also matches by its last field.
  maskValue: (field, text) => (field?.split('.').at(-1) === 'ssn' ? '***' : fakeMasker.maskText(text)),
};
