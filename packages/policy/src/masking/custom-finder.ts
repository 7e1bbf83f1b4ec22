import type { Emit, Finder } from './finder.js';

/** A detector defined in the config by a regex (already checked for nested quantifiers). */
export function customFinder(name: string, pattern: RegExp): Finder {
  const re = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
  return {
    detects: [name],
    find(text: string, _wanted: ReadonlySet<string>, emit: Emit): void {
      re.lastIndex = 0;
      for (let m = re.exec(text); m !== null; m = re.exec(text)) {
        if (m[0].length === 0) {
          // A pattern like `\b` or `(?=x)` matches empty strings; step over them, never loop.
          re.lastIndex++;
          continue;
        }
        emit(name, m.index, m.index + m[0].length);
      }
    },
  };
}
