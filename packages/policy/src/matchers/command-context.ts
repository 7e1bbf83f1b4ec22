/**
 * What every matcher may know about the command around the unit it judges. A raw-text `pattern`
 * sees the whole command text, which cannot be attributed to one of several units: an allow rule
 * `pattern: ^SELECT` must not allow the `DROP` of `SELECT 1; DROP TABLE t`. So in an allow rule a
 * pattern only ever matches a command made of a single unit.
 */
export interface CommandContext {
  readonly text: string;
  /** The command has exactly one unit (one statement, one simple command, one request). */
  readonly single: boolean;
  patternMatches(pattern: RegExp, broad: boolean): boolean;
}

export function commandContext(text: string, units: number): CommandContext {
  const single = units <= 1;
  return {
    text,
    single,
    patternMatches: (pattern, broad) => (broad || single) && pattern.test(text),
  };
}
