import { z } from 'zod';
import { envSchemas, parseEnv } from '@podlive/shared/env';

const schema = z.object({
  /** HTTP port for /health (default 3002). */
  RECORDER_PORT: envSchemas.port(3002),
  RECORDER_HOST: z.string().min(1).default('127.0.0.1'),
  /** FFmpeg binary (default: `ffmpeg` on the PATH; Debian's 5.1 is what the recorder is tested with). */
  FFMPEG_PATH: z.string().min(1).default('ffmpeg'),
  DATA_DIR: envSchemas.dataDir,
});

export type RecorderConfig = Readonly<z.output<typeof schema>>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): RecorderConfig {
  return parseEnv(schema, env);
}
