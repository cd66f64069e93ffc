import { loadConfig } from './config';
import { moduleLogger } from './Logger';
import { MediaNode } from './MediaNode';

const logger = moduleLogger('main');

async function main(): Promise<void> {
  const config = loadConfig();
  const node = await MediaNode.start(config);
  const stop = async (signal: string) => {
    logger.info({ signal }, 'stopping');
    await node.close();
    process.exit(0);
  };
  process.once('SIGINT', (s) => void stop(s));
  process.once('SIGTERM', (s) => void stop(s));
}

main().catch((err: unknown) => {
  logger.fatal({ err }, 'sfu failed to start');
  process.exit(1);
});
