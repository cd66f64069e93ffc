import { join } from 'node:path';
import { z } from 'zod';
import { DEFAULT_REDIS_PREFIX } from '@podlive/shared/fleet';
import { devSecret, envSchemas, parseEnv } from '@podlive/shared/env';
import { RECORDING_CHUNK_SECONDS } from '@podlive/shared/recording';

const text = envSchemas.optionalString;

const schema = z
  .object({
    /** HTTP port for /health and the control plane's commands (default 3002). */
    RECORDER_PORT: envSchemas.port(3002),
    RECORDER_HOST: z.string().min(1).default('127.0.0.1'),
    /** FFmpeg binary (default: `ffmpeg` on the PATH; Debian's 5.1 is what the recorder is tested with). */
    FFMPEG_PATH: z.string().min(1).default('ffmpeg'),
    DATA_DIR: envSchemas.dataDir,
    /** Shared with the control plane and the nodes: commands and recorder media tokens are signed with it. */
    MEDIA_TOKEN_SECRET: text,
    /** The control plane, told when a recording is finished (default http://127.0.0.1:3000). */
    SERVER_URL: envSchemas.url.default('http://127.0.0.1:3000'),
    /** Base of the local storage's signed URLs (the control plane's public URL; unused with S3). */
    PUBLIC_URL: envSchemas.url.optional(),
    /** Where FFmpeg writes chunks before they are uploaded (default DATA_DIR/recorder). */
    RECORDER_WORK_DIR: text,
    /** Length of a chunk; tests shorten it. */
    RECORDER_CHUNK_SECONDS: z.coerce.number().min(1).max(120).default(RECORDING_CHUNK_SECONDS),
    /** The finishing queue: BullMQ on Redis when set, else an in-process queue kept under DATA_DIR. */
    REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
    REDIS_PREFIX: z.string().regex(/^[\w:.-]{1,64}$/).default(DEFAULT_REDIS_PREFIX),
    AWS_ACCESS_KEY_ID: text,
    AWS_SECRET_ACCESS_KEY: text,
    AWS_S3_BUCKET: text,
    AWS_REGION: text,
    AWS_ENDPOINT_URL_S3: envSchemas.url.optional(),
  })
  .superRefine((env, ctx) => {
    if (env.AWS_S3_BUCKET === undefined) return;
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const) {
      if (env[name] === undefined) ctx.addIssue({ code: 'custom', path: [name], message: 'required when AWS_S3_BUCKET is set' });
    }
  })
  .transform((env) => ({
    ...env,
    MEDIA_TOKEN_SECRET: env.MEDIA_TOKEN_SECRET ?? devSecret(env.DATA_DIR, 'MEDIA_TOKEN_SECRET'),
    RECORDER_WORK_DIR: env.RECORDER_WORK_DIR ?? join(env.DATA_DIR, 'recorder'),
    PUBLIC_URL: env.PUBLIC_URL ?? env.SERVER_URL,
    /** Same objects as the control plane: its S3 bucket, or its local storage directory. */
    storage:
      env.AWS_S3_BUCKET === undefined
        ? { kind: 'local' as const, dir: join(env.DATA_DIR, 'storage'), urlSecret: devSecret(env.DATA_DIR, 'STORAGE_URL_SECRET') }
        : {
            kind: 's3' as const,
            bucket: env.AWS_S3_BUCKET,
            region: env.AWS_REGION ?? 'us-east-1',
            endpoint: env.AWS_ENDPOINT_URL_S3,
            accessKeyId: env.AWS_ACCESS_KEY_ID ?? '',
            secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? '',
          },
  }));

export type RecorderConfig = Readonly<z.output<typeof schema>>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): RecorderConfig {
  return parseEnv(schema, env);
}
