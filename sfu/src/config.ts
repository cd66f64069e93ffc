import { cpus } from 'node:os';
import { z } from 'zod';
import { devSecret, envSchemas, parseEnv } from '@podlive/shared/env';
import { DEFAULT_REDIS_PREFIX } from '@podlive/shared/fleet';

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

  // ---- the fleet (all optional: without REDIS_URL this node is alone, origin and edge of every live)
  /** Redis of the fleet: registry, heartbeats, session trees, node-to-node messages. */
  REDIS_URL: z.preprocess((v) => (v === '' ? undefined : v), z.url({ protocol: /^rediss?$/ }).optional()),
  /** Prefix of every Redis key and channel (deployments or test runs sharing a Redis stay apart). */
  REDIS_PREFIX: z.string().regex(/^[\w:.-]{1,64}$/).default(DEFAULT_REDIS_PREFIX),
  /** Region label reported to placement. */
  SFU_REGION: z.string().regex(/^[\w.-]{1,64}$/).default('local'),
  /** Consumers this node is meant to carry in all (default 500 per worker). */
  SFU_CAPACITY: z.coerce.number().int().min(1).optional(),
  /** The HTTP URL the control plane reaches /control on (default http://SFU_HOST:<bound port>). */
  SFU_CONTROL_URL: z.string().url().optional(),
  /** Address other nodes' pipes reach this node on (default RTC_LISTEN_IP) and its public form. */
  SFU_PIPE_IP: z.ipv4().or(z.ipv6()).optional(),
  SFU_PIPE_ANNOUNCED_IP: z.string().min(1).optional(),
  /** SRTP between nodes (default on: pipes may cross networks we don't own). */
  SFU_PIPE_SRTP: envSchemas.flag(true),
  /** A node feeds at most this many other nodes of one live (relays feed the rest). */
  SFU_RELAY_FANOUT: z.coerce.number().int().min(1).max(1000).default(8),
  /** Key frame requests to one video producer are sent at most this often (ms; 0: every one). */
  SFU_KEYFRAME_DELAY_MS: z.coerce.number().int().min(0).max(10_000).default(500),
  /** Draining: viewers asked to move per second, and how long one may take before it is closed. */
  SFU_DRAIN_RATE: z.coerce.number().int().min(1).max(10_000).default(20),
  SFU_DRAIN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
});

export type SfuConfig = Readonly<Omit<z.output<typeof schema>, 'MEDIA_TOKEN_SECRET' | 'SFU_CAPACITY'> & { MEDIA_TOKEN_SECRET: string; SFU_CAPACITY: number }>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): SfuConfig {
  const parsed = parseEnv(schema, env);
  return Object.freeze({
    ...parsed,
    MEDIA_TOKEN_SECRET: parsed.MEDIA_TOKEN_SECRET ?? devSecret(parsed.DATA_DIR, 'MEDIA_TOKEN_SECRET'),
    SFU_CAPACITY: parsed.SFU_CAPACITY ?? parsed.SFU_WORKERS * 500,
  });
}
