// pino loggers: JSON by default, pretty on a TTY when pino-pretty is installed (dev only). Secrets never
// reach a logger: the redact paths below are a second line of defence, not the first.
import { pino, type Logger, type LoggerOptions } from 'pino';
import type { LogLevel } from '../config/operator-config.ts';

const REDACT = [
  'password',
  '*.password',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.identitytoken',
  'data',
  '*.data',
];

export const createLogger = (options: { level: LogLevel; pretty: boolean; name?: string }): Logger => {
  const base: LoggerOptions = {
    level: options.level,
    name: options.name ?? 'tagguard',
    redact: { paths: REDACT, censor: '[redacted]' },
  };
  if (!options.pretty) return pino(base);
  return pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: true } } });
};

export type { Logger };
