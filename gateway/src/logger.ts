import type { Logger } from '@gatehouse/core';
import { pino } from 'pino';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/**
 * The gateway's structured logger. Keys that commonly carry credentials are censored as a second
 * line of defence; the first is that tokens and passwords are never handed to the logger at all.
 */
export function createLogger(opts: { level?: LogLevel; destination?: NodeJS.WritableStream } = {}): Logger {
  const options = {
    level: opts.level ?? 'info',
    base: { service: 'gatehouse' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    redact: {
      paths: [
        'token',
        'password',
        'secret',
        'authorization',
        '*.token',
        '*.password',
        '*.secret',
        '*.authorization',
        'headers.authorization',
        'req.headers.authorization',
      ],
      censor: '[REDACTED]',
    },
  };
  const logger = opts.destination === undefined ? pino(options) : pino(options, opts.destination);
  return logger as unknown as Logger;
}
