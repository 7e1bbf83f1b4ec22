import { type Emit, type Finder, isAlnum, isWordishNonAscii } from './finder.js';

const MAX_LOCAL = 64;
const MAX_DOMAIN = 255;

function isLocalChar(c: number): boolean {
  // letters, digits and . _ % + - (quotes and other RFC 5322 specials are left out: in SQL text
  // `'bob@example.com'` the quote must not become part of the address)
  return isAlnum(c) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45 || isWordishNonAscii(c);
}

function isLabelChar(c: number): boolean {
  return isAlnum(c) || c === 45 || isWordishNonAscii(c);
}

function isTldChar(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || isWordishNonAscii(c);
}

/**
 * Email addresses, found from each `@` outwards instead of by one regex: expansion to the left
 * stops at the previous `@`, to the right at the next one, so hostile input like `a@a@a@…` costs
 * linear time. Case does not matter; the domain must end in an alphabetic TLD of two or more
 * letters (`1.2.3.4`-like hosts and `user@localhost` are not masked).
 */
export const emailFinder: Finder = {
  detects: ['email'],
  find(text: string, _wanted: ReadonlySet<string>, emit: Emit): void {
    let at = text.indexOf('@');
    while (at !== -1) {
      const end = matchAt(text, at, emit);
      at = text.indexOf('@', Math.max(end, at + 1));
    }
  },
};

/** Tries the address around the `@` at `at`; returns where scanning may resume. */
function matchAt(text: string, at: number, emit: Emit): number {
  let start = at;
  while (start > 0 && at - start < MAX_LOCAL && isLocalChar(text.charCodeAt(start - 1))) start--;
  while (start < at && text.charCodeAt(start) === 46 /* . */) start++;
  if (start === at) return at + 1;

  // Walk the domain label by label, remembering where the last plausible TLD ended.
  let pos = at + 1;
  let labels = 0;
  let validEnd = -1;
  const limit = Math.min(text.length, at + 1 + MAX_DOMAIN);
  while (pos < limit) {
    const labelStart = pos;
    let tld = true;
    while (pos < limit && isLabelChar(text.charCodeAt(pos))) {
      if (!isTldChar(text.charCodeAt(pos))) tld = false;
      pos++;
    }
    if (pos === labelStart) break;
    labels++;
    if (labels >= 2 && tld && pos - labelStart >= 2) validEnd = pos;
    if (pos + 1 < limit && text.charCodeAt(pos) === 46 && isLabelChar(text.charCodeAt(pos + 1))) {
      pos++;
      continue;
    }
    break;
  }
  if (validEnd === -1) return at + 1;
  emit('email', start, validEnd);
  return validEnd;
}
