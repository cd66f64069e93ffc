import { createLogger } from '@podlive/shared/logger';
import { build } from './app';
import { loadConfig } from './config';

const logger = createLogger('recorder');

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await build(config);
  await app.listen({ host: config.RECORDER_HOST, port: config.RECORDER_PORT });
  const stop = async (signal: string) => {
    logger.info({ signal }, 'stopping');
    await app.close();
    process.exit(0);
  };
  process.once('SIGINT', (s) => void stop(s));
  process.once('SIGTERM', (s) => void stop(s));
}

main().catch((err: unknown) => {
  logger.fatal({ err }, 'recorder failed to start');
  process.exit(1);
});
