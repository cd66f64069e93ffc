import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { configLoader, envSchemas } from '@podlive/shared/env';
import { RECORDING_CHUNK_SECONDS } from '@podlive/shared/recording';
import { storageConfig, storageEnvSchema } from '@podlive/storage';
import { devPublicKey, keyVariables } from '@podlive/shared/tokens';
import { metricsEnvSchema } from '@podlive/shared/metrics';

const text = envSchemas.optionalString;

const schema = z
  .object({
    /** HTTP port for /health and the control plane's commands (default 3002). */
    RECORDER_PORT: envSchemas.port(3002),
    RECORDER_HOST: envSchemas.host('127.0.0.1'),
    /** FFmpeg binary (default: `ffmpeg` on the PATH; Debian's 5.1 is what the recorder is tested with). */
    FFMPEG_PATH: z.string().min(1).default('ffmpeg'),
    DATA_DIR: envSchemas.dataDir,
    /**
     * The control plane's public key (SPKI PEM or JWK): its commands are verified with it. The
     * recorder holds no signing key (a private key here is refused): its media and report tokens
     * come in the commands. Default: DATA_DIR/secrets/MEDIA_TOKEN_PUBLIC_KEY (development).
     */
    MEDIA_TOKEN_PUBLIC_KEY: keyVariables.publicKey,
    /** The control plane, told when a recording is finished (default http://127.0.0.1:3000). */
    SERVER_URL: envSchemas.url.default('http://127.0.0.1:3000'),
    /** Base of the local storage's signed URLs (the control plane's public URL; unused with S3). */
    PUBLIC_URL: envSchemas.url.optional(),
    /** Where FFmpeg writes chunks before they are uploaded (default DATA_DIR/recorder). */
    RECORDER_WORK_DIR: text,
    /** Length of a chunk; tests shorten it. */
    RECORDER_CHUNK_SECONDS: z.coerce.number().min(1).max(120).default(RECORDING_CHUNK_SECONDS),
    /** The finishing queue: BullMQ on Redis when set, else an in-process queue kept under DATA_DIR. */
    REDIS_URL: envSchemas.redisUrl,
    REDIS_PREFIX: envSchemas.redisPrefix,
    /**
     * What names this recorder: the `instance` its metrics are announced with (default
     * <hostname>-<pid>, which changes with every restart: a fleet's install sets one per recorder).
     */
    RECORDER_ID: z.string().trim().regex(/^[\w.-]{1,64}$/, 'must be 1-64 of [A-Za-z0-9_.-]').optional(),
    /** Its Prometheus /metrics listener: METRICS_HOST (127.0.0.1), METRICS_PORT (0: a free port), METRICS_TOKEN (none). */
    ...metricsEnvSchema,
  })
  // The storage settings (AWS_*) are the storage package's, read the same way by the control plane.
  .and(storageEnvSchema);

/** The recorder's config: its schema parsed by parseEnv, then what derives from several variables. */
export const loadConfig = configLoader(schema, (env) => {
  const PUBLIC_URL = env.PUBLIC_URL ?? env.SERVER_URL;
  return {
    ...env,
    RECORDER_ID: env.RECORDER_ID ?? `${hostname().replace(/[^\w.-]/g, '-').slice(0, 50)}-${process.pid}`,
    MEDIA_TOKEN_PUBLIC_KEY: env.MEDIA_TOKEN_PUBLIC_KEY ?? devPublicKey(env.DATA_DIR),
    RECORDER_WORK_DIR: env.RECORDER_WORK_DIR ?? join(env.DATA_DIR, 'recorder'),
    PUBLIC_URL,
    /** Same objects as the control plane: its S3 bucket, or its local storage directory. */
    storage: storageConfig(env, { dataDir: env.DATA_DIR, publicUrl: PUBLIC_URL }),
  };
});

export type RecorderConfig = ReturnType<typeof loadConfig>;
