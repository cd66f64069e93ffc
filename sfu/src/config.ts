import { cpus } from 'node:os';
import { z } from 'zod';
import { configLoader, envSchemas } from '@podlive/shared/env';
import { CONSUMERS_PER_WORKER } from '@podlive/shared/fleet';
import { metricsEnvSchema } from '@podlive/shared/metrics';
import { devPublicKey, keyVariables, type TokenVerifyingKey } from '@podlive/shared/tokens';

const schema = z.object({
  /** Public port: the protoo WebSocket only (default 4443). */
  SFU_PORT: envSchemas.port(4443),
  /** Address the public WebSocket server listens on. */
  SFU_HOST: envSchemas.host('127.0.0.1'),
  /**
   * Internal listener for /health, /control and the recorder's WebSocket: an address only the
   * control plane and the recorder reach (default 127.0.0.1; a private interface in a fleet).
   */
  SFU_CONTROL_HOST: envSchemas.host('127.0.0.1'),
  /** Its port (default SFU_PORT + 1; 0 when SFU_PORT is 0: any free port). */
  SFU_CONTROL_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** New signalling connections accepted per client address per minute on the public port (0: no limit). */
  SFU_CONNECTS_PER_MINUTE: envSchemas.int(0, 1_000_000, 120),
  /** This node's id; media tokens name the node they are valid on. */
  SFU_NODE_ID: envSchemas.name('local'),
  /** Public WebSocket URL clients use to reach this node (default ws://SFU_HOST:SFU_PORT). */
  SFU_PUBLIC_WS_URL: z.url({ protocol: /^wss?$/ }).optional(),
  /** mediasoup workers (one per core by default). */
  SFU_WORKERS: envSchemas.int(1, 64, cpus().length),
  /**
   * Address the WebRtcServers listen on. Must be a concrete address: 0.0.0.0 with an announced
   * 127.0.0.1 never connects from Chromium here (see shared/notes/ENVIRONMENT.md).
   */
  RTC_LISTEN_IP: z.ipv4().or(z.ipv6()).default('127.0.0.1'),
  /** Address announced in ICE candidates when it differs from the listen address (NAT, cloud). */
  RTC_ANNOUNCED_IP: z.string().min(1).optional(),
  /** Worker i's WebRtcServer uses port RTC_PORT_BASE + i on UDP and TCP. */
  RTC_PORT_BASE: envSchemas.port(40000),
  /**
   * The control plane's public key (SPKI PEM or JWK; Ed25519 or P-256): media and control tokens
   * are verified with it. A node holds no key that can sign (a private key here is refused).
   * Default: DATA_DIR/secrets/MEDIA_TOKEN_PUBLIC_KEY (development; generated with its pair).
   */
  MEDIA_TOKEN_PUBLIC_KEY: keyVariables.publicKey,
  /**
   * The control plane (its /internal routes): before a guest grant takes effect the node asks it
   * whether the invite is still accepted (shared/src/control.ts). Default: `npm start`'s server.
   */
  SERVER_URL: envSchemas.url.default('http://127.0.0.1:3000'),
  DATA_DIR: envSchemas.dataDir,

  // ---- the fleet (all optional: without REDIS_URL this node is alone, origin and edge of every live)
  /** Redis of the fleet: registry, heartbeats, session trees, node-to-node messages. */
  REDIS_URL: envSchemas.redisUrl,
  /** Prefix of every Redis key and channel (deployments or test runs sharing a Redis stay apart). */
  REDIS_PREFIX: envSchemas.redisPrefix,
  /** Region label reported to placement. */
  SFU_REGION: envSchemas.name('local'),
  /** Consumers this node is meant to carry in all (default CONSUMERS_PER_WORKER × workers: the measured per-core figure with headroom). */
  SFU_CAPACITY: z.coerce.number().int().min(1).optional(),
  /** The HTTP URL the control plane reaches /control on (default http://SFU_CONTROL_HOST:<bound port>). */
  SFU_CONTROL_URL: envSchemas.url.optional(),
  /** Address other nodes' pipes reach this node on (default RTC_LISTEN_IP) and its public form. */
  SFU_PIPE_IP: z.ipv4().or(z.ipv6()).optional(),
  SFU_PIPE_ANNOUNCED_IP: z.string().min(1).optional(),
  /** SRTP between nodes (default on: pipes may cross networks we don't own). */
  SFU_PIPE_SRTP: envSchemas.flag(true),
  /** A node feeds at most this many other nodes of one live (relays feed the rest). */
  SFU_RELAY_FANOUT: envSchemas.int(1, 1000, 8),
  /** Key frame requests to one video producer are sent at most this often (ms; 0: every one). */
  SFU_KEYFRAME_DELAY_MS: envSchemas.int(0, 10_000, 500),
  /**
   * How long the recorder's connection waits for the host to open the live's room here (ms): the
   * recorder is told as the live starts, a moment before the host connects.
   */
  SFU_RECORDER_WAIT_MS: envSchemas.int(0, 60_000, 10_000),
  /** Draining: viewers asked to move per second, and how long one may take before it is closed. */
  SFU_DRAIN_RATE: envSchemas.int(1, 10_000, 20),
  SFU_DRAIN_GRACE_MS: envSchemas.int(0, 10 * 60_000, 10_000),

  // ---- metrics
  /**
   * Prometheus' /metrics on a listener of its own: METRICS_HOST (default 127.0.0.1), METRICS_PORT
   * (default 0: a free port, announced in Redis with a fleet), METRICS_TOKEN (a bearer token scrapes must carry; default none).
   */
  ...metricsEnvSchema,
  /** How often mediasoup's stats (consumers, pipes, workers' CPU and memory) are sampled for the metrics (ms, default 5000). */
  SFU_METRICS_SAMPLE_MS: envSchemas.int(100, 60_000, 5000),
});

export type SfuConfig = Readonly<
  Omit<z.output<typeof schema>, 'MEDIA_TOKEN_PUBLIC_KEY' | 'SFU_CAPACITY' | 'SFU_CONTROL_PORT'> & { MEDIA_TOKEN_PUBLIC_KEY: TokenVerifyingKey; SFU_CAPACITY: number; SFU_CONTROL_PORT: number }
>;

export const loadConfig: (env?: NodeJS.ProcessEnv) => SfuConfig = configLoader(schema, (parsed) => ({
  ...parsed,
  MEDIA_TOKEN_PUBLIC_KEY: parsed.MEDIA_TOKEN_PUBLIC_KEY ?? devPublicKey(parsed.DATA_DIR),
  SFU_CAPACITY: parsed.SFU_CAPACITY ?? parsed.SFU_WORKERS * CONSUMERS_PER_WORKER,
  SFU_CONTROL_PORT: parsed.SFU_CONTROL_PORT ?? (parsed.SFU_PORT === 0 ? 0 : parsed.SFU_PORT + 1),
}));
