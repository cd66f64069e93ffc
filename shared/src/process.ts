import type { Logger } from './logger';

/**
 * A process's life: runs `start`, then on the first SIGINT or SIGTERM runs the `stop` it returned
 * and exits 0 (1 if stopping fails). A failed start is logged as fatal and exits 1. Used by every
 * PodLive process's main.ts so Ctrl-C behaves the same everywhere.
 */
export function runProcess(logger: Logger, start: () => Promise<() => Promise<void>>): void {
  start()
    .then((stop) => {
      let stopping = false;
      const onSignal = (signal: NodeJS.Signals) => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'stopping');
        stop().then(
          () => process.exit(0),
          (err: unknown) => {
            logger.error({ err }, 'stopping failed');
            process.exit(1);
          },
        );
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    })
    .catch((err: unknown) => {
      logger.fatal({ err }, 'failed to start');
      process.exit(1);
    });
}
