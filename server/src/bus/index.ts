import type { Logger } from '@podlive/shared/logger';
import type { Config } from '../config';
import type { Bus } from './bus';
import { InProcessBus } from './in-process-bus';
import { RedisBus } from './redis-bus';

export { BusClosedError, type Bus, type BusHandler } from './bus';
export { InProcessBus } from './in-process-bus';
export { RedisBus, type RedisBusOptions } from './redis-bus';

/** RedisBus when REDIS_URL is set (a fleet of replicas), InProcessBus otherwise (one replica). */
export function createBus(config: Pick<Config, 'redisUrl'> & Partial<Pick<Config, 'redisPrefix'>>, logger: Logger): Bus {
  if (config.redisUrl === undefined) return new InProcessBus({ logger });
  return new RedisBus({ url: config.redisUrl, logger, ...(config.redisPrefix === undefined ? {} : { prefix: config.redisPrefix }) });
}
