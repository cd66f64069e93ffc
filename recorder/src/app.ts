import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import { createLogger } from '@podlive/shared/logger';
import { healthReport } from '@podlive/shared/health';
import { RECORDER_CONTROL_ID, recorderStartBody } from '@podlive/shared/recording';
import { verifyControlToken } from '@podlive/shared/tokens';
import { z } from 'zod';
import type { RecorderConfig } from './config';
import { probeFfmpeg } from './ffmpeg';
import { Recorder } from './Recorder';
import pkg from '../package.json' with { type: 'json' };

const sessionParams = z.strictObject({ sessionId: z.uuid() });

/**
 * The recorder's HTTP surface: /health, and the control plane's commands under /control (each
 * with a control token for `recorder`, signed with MEDIA_TOKEN_SECRET):
 * - POST /control/recordings (RecorderStartBody) → 202: record the live from that origin, or follow it there.
 * - POST /control/recordings/:sessionId/stop → 202: the live ended; the finishing job is queued.
 * - GET  /control/recordings/:sessionId → what has been captured (the manifest), 404 if not recorded here.
 */
export async function build(config: RecorderConfig, recorder?: Recorder): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: createLogger('recorder') as FastifyBaseLogger });
  const ffmpeg = await probeFfmpeg(config.FFMPEG_PATH);
  if (!ffmpeg.ok) app.log.error({ missing: ffmpeg.missing }, 'FFmpeg lacks what recording needs');
  const live = recorder ?? (await Recorder.create(config));
  app.addHook('onClose', () => live.close());

  app.get('/health', async (_req, reply) => {
    const report = healthReport('recorder', pkg.version, { ffmpeg, activeRecordings: live.sessions.length, queue: live.queue.kind });
    if (!ffmpeg.ok) return reply.code(503).send({ ...report, status: 'degraded' });
    return report;
  });

  const error = (code: string, message: string) => ({ error: { code, message } });
  const authorized = async (request: FastifyRequest) => {
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    return token !== undefined && (await verifyControlToken(config.MEDIA_TOKEN_SECRET, token, RECORDER_CONTROL_ID));
  };

  await app.register(async (control) => {
    control.addHook('onRequest', async (request, reply) => {
      if (!(await authorized(request))) return reply.code(401).send(error('UNAUTHORIZED', 'a control token for the recorder is required'));
    });
    control.post('/recordings', async (request, reply) => {
      const body = recorderStartBody.safeParse(request.body);
      if (!body.success) return reply.code(400).send(error('VALIDATION_FAILED', z.prettifyError(body.error)));
      await live.start(body.data);
      return reply.code(202).send({ sessionId: body.data.sessionId, recording: true });
    });
    control.post('/recordings/:sessionId/stop', async (request, reply) => {
      const params = sessionParams.safeParse(request.params);
      if (!params.success) return reply.code(400).send(error('VALIDATION_FAILED', z.prettifyError(params.error)));
      // Answered once FFmpeg has flushed the last chunk: the control plane closes the rooms after
      // this answer, and FFmpeg only stops cleanly while media still reaches it.
      await live.stop(params.data.sessionId);
      return reply.code(202).send({ sessionId: params.data.sessionId, recording: false });
    });
    control.get('/recordings/:sessionId', async (request, reply) => {
      const params = sessionParams.safeParse(request.params);
      if (!params.success) return reply.code(400).send(error('VALIDATION_FAILED', z.prettifyError(params.error)));
      const recording = await live.recording(params.data.sessionId);
      if (!recording) return reply.code(404).send(error('NOT_FOUND', 'this live is not being recorded here'));
      return { sessionId: recording.sessionId, node: recording.node.id, manifest: recording.manifest };
    });
  }, { prefix: '/control' });
  return app;
}
