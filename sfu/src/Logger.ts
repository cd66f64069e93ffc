import { createLogger, type Logger } from '@podlive/shared/logger';

const root = createLogger('sfu');

/** A child logger per module: `moduleLogger('Room').info({ roomId }, 'created')`. */
export function moduleLogger(module: string): Logger {
  return root.child({ module });
}
