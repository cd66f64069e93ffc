import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/**
 * One structured (JSON) logger per process, and a child per module:
 * `createLogger('sfu').child({ module: 'Room' })`. Level from LOG_LEVEL (default `info`,
 * `silent` under tests unless LOG_LEVEL is set).
 */
export function createLogger(service: string, options: LoggerOptions = {}): Logger {
  const level = process.env.LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info');
  return pino({ name: service, level, ...options });
}
