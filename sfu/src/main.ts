import { runProcess } from '@podlive/shared/process';
import { loadConfig } from './config';
import { moduleLogger } from './Logger';
import { MediaNode } from './MediaNode';

runProcess(moduleLogger('main'), async () => {
  const node = await MediaNode.start(loadConfig());
  return () => node.close();
});
