import { isAbsolute, resolve } from 'node:path';
import { parseDuration } from '@gatehouse/core';
import type { KeyPath, Problems } from './problems.js';
import { durationMessage } from './schema.js';
import { kindOf } from './schema-validate.js';

/** What the checks after the schema share: where to report, how to quote, where paths start. */
export class NormalizeContext {
  constructor(
    readonly problems: Problems,
    /** Directory relative paths resolve against: the config file's. */
    readonly baseDir: string,
    /** Secret values so far; secret-bearing fields add theirs. */
    readonly secrets: Set<string>,
    readonly extraProtocols: readonly string[],
  ) {}

  add(path: KeyPath, message: string): void {
    this.problems.add(path, message);
  }

  /** Quotes a value for a message, unless it holds a secret. */
  show(value: unknown): string {
    if (typeof value === 'string') {
      for (const secret of this.secrets) {
        if (secret !== '' && value.includes(secret)) return '(a value from a secret reference)';
      }
      return JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}…` : value);
    }
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    return kindOf(value);
  }

  /** Milliseconds of a duration string, or `fallback` when absent; reports a bad one. */
  duration(path: KeyPath, value: unknown, fallback: number): number {
    if (value === undefined) return fallback;
    const ms = typeof value === 'string' ? parseDuration(value) : undefined;
    if (ms === undefined) {
      this.add(path, durationMessage(this.show(value)));
      return fallback;
    }
    return ms;
  }

  path(value: string): string {
    return isAbsolute(value) ? value : resolve(this.baseDir, value);
  }

  /** Checks an http(s) URL; reports and returns the text either way. */
  httpUrl(path: KeyPath, value: string): string {
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      this.add(path, `${this.show(value)} is not an http:// or https:// URL`);
    }
    return value;
  }

  /** Records a value that is secret even when written literally (passwords, keys). */
  secret(value: string | undefined): string | undefined {
    if (value !== undefined && value !== '') this.secrets.add(value);
    return value;
  }
}
