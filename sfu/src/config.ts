import { cpus } from 'node:os';
import { z } from 'zod';
import { devSecret, envSchemas, parseEnv } from '@podlive/shared/env';

const schema = z.object({
  /** HTTP port for /health and the protoo WebSocket (default 4443). */
  SFU_PORT: envSchemas.port(4443),
  /** Address the HTTP/WebSocket server listens on. */
  SFU_HOST: z.string().min(1).default('127.0.0.1'),
  /** This node's id; media tokens name the node they are valid on. */
  SFU_NODE_ID: z.string().regex(/^[\w.-]{1,64}$/).default('local'),
  /** Public WebSocket URL clients use to reach this node (default ws://SFU_HOST:SFU_PORT). */
  SFU_PUBLIC_WS_URL: z.string().url().optional(),
  /** mediasoup workers (one per core by default). */
  SFU_WORKERS: z.coerce.number().int().min(1).max(64).default(cpus().length),
  /**
   * Address the WebRtcServers listen on. Must be a concrete address: 0.0.0.0 with an announced
   * 127.0.0.1 never connects from Chromium here (see shared/notes/ENVIRONMENT.md).
   */
  RTC_LISTEN_IP: z.ipv4().or(z.ipv6()).default('127.0.0.1'),
  /** Address announced in ICE candidates when it differs from the listen address (NAT, cloud). */
  RTC_ANNOUNCED_IP: z.string().min(1).optional(),
  /** Worker i's WebRtcServer uses port RTC_PORT_BASE + i on UDP and TCP. */
  RTC_PORT_BASE: envSchemas.port(40000),
  MEDIA_TOKEN_SECRET: z.string().min(32).optional(),
  DATA_DIR: envSchemas.dataDir,
});

export type SfuConfig = Readonly<Omit<z.output<typeof schema>, 'MEDIA_TOKEN_SECRET'> & { MEDIA_TOKEN_SECRET: string; SFU_PUBLIC_WS_URL: string }>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): SfuConfig {
  const parsed = parseEnv(schema, env);
  return Object.freeze({
    ...parsed,
    MEDIA_TOKEN_SECRET: parsed.MEDIA_TOKEN_SECRET ?? devSecret(parsed.DATA_DIR, 'MEDIA_TOKEN_SECRET'),
    SFU_PUBLIC_WS_URL: parsed.SFU_PUBLIC_WS_URL ?? `ws://${parsed.SFU_HOST}:${parsed.SFU_PORT}`,
  });
}
