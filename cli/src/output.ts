/** Terminal output helpers: tables for people, JSON for machines, colour only when wanted. */

export interface Output {
  readonly color: boolean;
  out(text: string): void;
  err(text: string): void;
}

/** Colour when stdout is a terminal and NO_COLOR is unset or empty (https://no-color.org). */
export function wantsColor(
  env: NodeJS.ProcessEnv = process.env,
  isTTY = process.stdout.isTTY === true,
): boolean {
  const noColor = env['NO_COLOR'];
  if (noColor !== undefined && noColor !== '') return false;
  if (env['FORCE_COLOR'] !== undefined && env['FORCE_COLOR'] !== '0') return true;
  return isTTY;
}

export function processOutput(): Output {
  return {
    color: wantsColor(),
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
  };
}

const CODES = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
};

export function paint(output: Output, style: keyof typeof CODES, text: string): string {
  if (!output.color) return text;
  const [open, close] = CODES[style];
  return `\u001b[${open}m${text}\u001b[${close}m`;
}

/**
 * Characters that must not reach the operator's terminal raw from untrusted text (commands, claims,
 * messages): C0 and C1 controls (escape sequences, BEL, backspace and carriage-return overwrites,
 * newlines that forge a line of output), and the invisible characters that reorder or break what
 * is shown — bidirectional overrides and isolates (Trojan Source, CVE-2021-42574) and the Unicode
 * line and paragraph separators.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const UNSAFE_KEEPING_NEWLINES =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escapeChar(c: string): string {
  if (c === '\u001b') return '^[';
  if (c === '\n') return '\\n';
  if (c === '\t') return '\\t';
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
}

/**
 * Untrusted text made safe to print on one line: every character above is shown escaped (`^[`,
 * `\n`, `\x07`, `\u{202e}`). With `multiline`, newlines are kept (error messages that span lines).
 */
export function printable(text: string, options: { multiline?: boolean } = {}): string {
  return text.replace(options.multiline === true ? UNSAFE_KEEPING_NEWLINES : UNSAFE, escapeChar);
}

/** JSON for machines, with the invisible reordering characters escaped as \\uXXXX (still valid JSON). */
export function jsonText(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(
    /[\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Renders rows as an aligned plain-text table. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export function truncate(text: string, max: number): string {
  const single = text.replace(/\s+/g, ' ');
  return single.length <= max ? single : `${single.slice(0, max - 1)}…`;
}

export function formatTime(value: number | string | Date | undefined): string {
  if (value === undefined) return '-';
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return '-';
  return date
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, 'Z');
}
