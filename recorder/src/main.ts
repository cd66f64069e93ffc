import { createLogger } from '@podlive/shared/logger';
import { runProcess } from '@podlive/shared/process';
import { build } from './app';
import { loadConfig } from './config';

runProcess(createLogger('recorder'), async () => {
  const config = loadConfig();
  const app = await build(config);
  await app.listen({ host: config.RECORDER_HOST, port: config.RECORDER_PORT });
  return () => app.close();
});
