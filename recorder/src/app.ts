import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { createLogger } from '@podlive/shared/logger';
import { sendError } from '@podlive/shared/errors';
import { healthReport } from '@podlive/shared/health';
import { controlAuth } from '@podlive/shared/control-auth';
import { RECORDER_CONTROL_ID, recorderStartBody, recorderStopBody } from '@podlive/shared/recording';
import { z } from 'zod';
import type { RecorderConfig } from './config';
import { probeFfmpeg } from './ffmpeg';
import { Recorder } from './Recorder';
import pkg from '../package.json' with { type: 'json' };

const sessionParams = z.strictObject({ sessionId: z.uuid() });

/**
 * The recorder's HTTP surface: /health (with `metrics`, the host:port of its Prometheus /metrics,
 * served apart: see Recorder), and the control plane's commands under /control (each
 * with a control token for `recorder` and the scope in brackets, signed by the control plane and
 * verified with MEDIA_TOKEN_PUBLIC_KEY; else 401 UNAUTHENTICATED, see shared/src/control-auth.ts):
 * - POST /control/recordings [recording:start] (RecorderStartBody) → 202: record the live from that origin, or follow it there.
 * - POST /control/recordings/:sessionId/stop [recording:stop] (RecorderStopBody) → 202: the live ended; the finishing job is queued.
 * - GET  /control/recordings/:sessionId [recording:read] → what has been captured (the manifest), 404 if not recorded here.
 */
export async function build(config: RecorderConfig, recorder?: Recorder): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: createLogger('recorder') as FastifyBaseLogger });
  const ffmpeg = await probeFfmpeg(config.FFMPEG_PATH);
  if (!ffmpeg.ok) app.log.error({ missing: ffmpeg.missing }, 'FFmpeg lacks what recording needs');
  const live = recorder ?? (await Recorder.create(config));
  app.addHook('onClose', () => live.close());

  app.get('/health', async (_req, reply) => {
    const report = healthReport('recorder', pkg.version, {
      ffmpeg, activeRecordings: live.sessions.length, queue: live.queue.kind, recorderId: live.id, metrics: live.metricsAddress,
    });
    if (!ffmpeg.ok) return reply.code(503).send({ ...report, status: 'degraded' });
    return report;
  });

  await app.register(async (control) => {
    control.addHook('onRequest', controlAuth({ publicKey: config.MEDIA_TOKEN_PUBLIC_KEY, node: RECORDER_CONTROL_ID }));
    control.post('/recordings', { config: { controlScope: 'recording:start' } }, async (request, reply) => {
      const body = recorderStartBody.safeParse(request.body);
      if (!body.success) return sendError(reply, 'VALIDATION_FAILED', z.prettifyError(body.error));
      await live.start(body.data);
      return reply.code(202).send({ sessionId: body.data.sessionId, recording: true });
    });
    control.post('/recordings/:sessionId/stop', { config: { controlScope: 'recording:stop' } }, async (request, reply) => {
      const params = sessionParams.safeParse(request.params);
      if (!params.success) return sendError(reply, 'VALIDATION_FAILED', z.prettifyError(params.error));
      const body = recorderStopBody.safeParse(request.body);
      if (!body.success) return sendError(reply, 'VALIDATION_FAILED', z.prettifyError(body.error));
      // Answered once FFmpeg has flushed the last chunk: the control plane closes the rooms after
      // this answer, and FFmpeg only stops cleanly while media still reaches it.
      await live.stop(params.data.sessionId, body.data.reportToken);
      return reply.code(202).send({ sessionId: params.data.sessionId, recording: false });
    });
    control.get('/recordings/:sessionId', { config: { controlScope: 'recording:read' } }, async (request, reply) => {
      const params = sessionParams.safeParse(request.params);
      if (!params.success) return sendError(reply, 'VALIDATION_FAILED', z.prettifyError(params.error));
      const recording = await live.recording(params.data.sessionId);
      if (!recording) return sendError(reply, 'NOT_FOUND', 'this live is not being recorded here');
      return { sessionId: recording.sessionId, node: recording.node.id, manifest: recording.manifest };
    });
  }, { prefix: '/control' });
  return app;
}
