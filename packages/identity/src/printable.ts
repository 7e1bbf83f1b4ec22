/**
 * Renders a value taken from an unverified token (kid, iss) for an error message: quoted, short and
 * free of control characters, so that a hostile token cannot forge log lines or flood them.
 */
export function printable(value: unknown, max = 100): string {
  if (typeof value !== 'string') return `(${value === null ? 'null' : typeof value})`;
  const clean = value.replace(/[^\x20-\x7e]/g, '?');
  const cut = clean.length > max ? `${clean.slice(0, max)}…` : clean;
  return JSON.stringify(cut);
}
