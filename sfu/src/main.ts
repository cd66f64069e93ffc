import { runProcess } from '@podlive/shared/process';
import { loadConfig } from './config';
import { moduleLogger } from './Logger';
import { MediaNode } from './MediaNode';

const logger = moduleLogger('main');

runProcess(logger, async () => {
  const node = await MediaNode.start(loadConfig());
  // Drained on the operator's word (deploy/fleet/drain): nothing is left here, so stop.
  node.fleet?.once('drained', () => {
    logger.info('drained: stopping');
    process.kill(process.pid, 'SIGTERM');
  });
  return () => node.close();
});
