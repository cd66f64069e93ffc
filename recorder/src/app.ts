import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { createLogger } from '@podlive/shared/logger';
import { healthReport } from '@podlive/shared/health';
import type { RecorderConfig } from './config';
import { probeFfmpeg } from './ffmpeg';
import pkg from '../package.json' with { type: 'json' };

/** The recorder's HTTP surface: /health now; recording jobs arrive with the recording issue. */
export async function build(config: RecorderConfig): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: createLogger('recorder') as FastifyBaseLogger });
  const ffmpeg = await probeFfmpeg(config.FFMPEG_PATH);
  if (!ffmpeg.ok) app.log.error({ missing: ffmpeg.missing }, 'FFmpeg lacks what recording needs');
  app.get('/health', async (_req, reply) => {
    const report = healthReport('recorder', pkg.version, { ffmpeg, activeRecordings: 0 });
    if (!ffmpeg.ok) return reply.code(503).send({ ...report, status: 'degraded' });
    return report;
  });
  return app;
}
