import { configLoader, devSecret, envSchemas } from '@podlive/shared/env';
import { STAGE_INVITE_TTL_MS, STAGE_MAX_GUESTS } from '@podlive/shared/stage';
import { storageConfig, storageEnvSchema, type StorageConfig } from '@podlive/storage';
import { devPrivateKey, keyVariables, publicKeyOf, type TokenSigningKey, type TokenVerifyingKey } from '@podlive/shared/tokens';
import { createECDH } from 'node:crypto';
import { join } from 'node:path';
import webpush from 'web-push';
import { z } from 'zod';

/** How mail leaves: .eml files in an outbox directory (and the log), or an SMTP relay. */
export type MailConfig =
  | { readonly kind: 'outbox'; readonly dir: string; readonly from: string }
  | {
      readonly kind: 'smtp';
      readonly host: string;
      readonly port: number;
      /** Implicit TLS (port 465); other ports use STARTTLS when the relay offers it. */
      readonly secure: boolean;
      readonly user: string | undefined;
      readonly pass: string | undefined;
      readonly from: string;
    };

/** Web Push (VAPID): the application server's key pair, base64url, and who the push services may contact. */
export interface PushConfig {
  /** Uncompressed P-256 point (65 bytes): the browsers' `applicationServerKey`. */
  readonly publicKey: string;
  /** The P-256 private scalar (32 bytes). */
  readonly privateKey: string;
  /** `mailto:` or `https:` URL put in the VAPID JWT. */
  readonly subject: string;
  /**
   * PUSH_SERVICE_ORIGINS: push services accepted besides the browsers' own (exact origins, e.g. a
   * test's local push service). Empty by default: subscriptions name a browser push service or nothing.
   */
  readonly extraServiceOrigins: readonly string[];
}

export type { StorageConfig } from '@podlive/storage';
export {
  DEFAULT_PASSWORD_HASH, DEFAULT_RATE_LIMITS,
  type PasswordHashConfig, type RateLimitConfig, type RateLimitName, type RateLimitRule,
} from './limits';
import { DEFAULT_LOGIN_THROTTLE, DEFAULT_PASSWORD_HASH, DEFAULT_RATE_LIMITS, type LoginThrottleConfig, type PasswordHashConfig, type RateLimitConfig } from './limits';
import type { TurnConfig } from './media/turn';
import { metricsEnvSchema, type MetricsSettings } from '@podlive/shared/metrics';

export interface Config {
  /** HOST, default 127.0.0.1. */
  readonly host: string;
  /** PORT, default 3000. */
  readonly port: number;
  /** PUBLIC_URL without a trailing slash, default http://localhost:PORT. */
  readonly publicUrl: string;
  /** DATA_DIR, absolute; default `<repo>/data`. */
  readonly dataDir: string;
  /** DATABASE_URL; unset means embedded PGlite in DATA_DIR. */
  readonly databaseUrl: string | undefined;
  /** REDIS_URL; unset means in-process bus and state (one replica). */
  readonly redisUrl: string | undefined;
  /** METRICS_HOST, METRICS_PORT, METRICS_TOKEN: where /metrics is served (shared/metrics). */
  readonly metrics: MetricsSettings;
  /** REDIS_PREFIX (default `podlive:`): before every Redis key and channel; the SFU nodes use the same. */
  readonly redisPrefix: string;
  /** From the environment (>= 32 chars) or generated once per machine in DATA_DIR/secrets/<VAR>. */
  readonly secrets: {
    readonly jwtAccess: string;
    readonly jwtRefresh: string;
    /**
     * MEDIA_TOKEN_PRIVATE_KEY (PKCS#8 PEM or JWK; Ed25519 or P-256), or a pair generated once in
     * DATA_DIR/secrets/: signs media and control tokens. Only the control plane has it; nodes
     * and the recorder get `mediaTokenPublic` (MEDIA_TOKEN_PUBLIC_KEY).
     */
    readonly mediaToken: TokenSigningKey;
    readonly mediaTokenPublic: TokenVerifyingKey;
  };
  readonly storage: StorageConfig;
  readonly mail: MailConfig;
  /** WEB_URL: the SvelteKit process everything outside /api, /ws and /health is proxied to. */
  readonly webUrl: string;
  /** SFU_URL: the SFU node's HTTP endpoint (health, /control commands). */
  readonly sfuUrl: string;
  /** SFU_NODE_ID: that node's id, named in the media tokens minted for it (default `local`, as the node's). */
  readonly sfuNodeId: string;
  /** SFU_PUBLIC_WS_URL: the protoo WebSocket URL browsers open (default SFU_URL with a ws scheme). */
  readonly sfuPublicWsUrl: string;
  /**
   * SFU_PLACEMENT: `single` (the one node of SFU_URL) or `fleet` (the nodes registered in Redis).
   * Default: fleet when REDIS_URL is set and SFU_URL is not, single otherwise.
   */
  readonly sfuPlacement: 'single' | 'fleet';
  /** SFU_EDGE_LIMIT (default 500): a session's viewers per edge node before another edge is opened. */
  readonly sfuEdgeLimit: number;
  /**
   * LIVE_WEBRTC_CAP: WebRTC viewers of any one live before the next viewers are given its live HLS
   * (a few seconds behind); `npm run fleet -- cap` sets it per live. Unset: only the fleet's
   * capacity sends viewers to HLS.
   */
  readonly liveWebrtcCap: number | undefined;
  /**
   * RECORDER_URL: the recording service's HTTP endpoint (`/control/recordings`). Unset: lives are
   * not recorded (and have no live HLS).
   */
  readonly recorderUrl: string | undefined;
  /** STAGE_MAX_GUESTS (default 4) and STAGE_INVITE_TTL_MS (default 30000): the stage of every live. */
  readonly stage: { readonly maxGuests: number; readonly inviteTtlMs: number };
  /**
   * VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY (both or neither; unset: a pair generated once per machine
   * in DATA_DIR/secrets/VAPID_PRIVATE_KEY) and VAPID_SUBJECT (default PUBLIC_URL when https, else
   * `mailto:no-reply@<its host>`); PUSH_SERVICE_ORIGINS (default none).
   */
  readonly push: PushConfig;
  /**
   * TURN_URLS (comma-separated `turn:`/`turns:` URIs, e.g. `turn:live.example.com:3478?transport=udp,
   * turns:live.example.com:443?transport=tcp`) and TURN_SECRET (coturn's static-auth-secret): both or
   * neither. Unset: no TURN, pages use the nodes' own candidates only.
   */
  readonly turn: TurnConfig | null;
  readonly passwordHash: PasswordHashConfig;
  readonly rateLimits: RateLimitConfig;
  readonly loginThrottle: LoginThrottleConfig;
}

const blankToUndefined = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);
const optional = <T extends z.ZodType>(schema: T) => z.preprocess(blankToUndefined, schema);
const secret = optional(z.string().min(32, 'must be at least 32 characters when set').optional());
const text = envSchemas.optionalString;

/** A base64url string (no padding) of exactly `bytes` bytes. */
const base64urlBytes = (bytes: number, what: string) =>
  z.string().trim().refine((s) => /^[\w-]+$/.test(s) && Buffer.from(s, 'base64url').length === bytes, `must be ${what}, base64url (${bytes} bytes)`);

const envSchema = z
  .object({
    HOST: envSchemas.host('127.0.0.1'),
    PORT: envSchemas.port(3000),
    PUBLIC_URL: envSchemas.url.optional(),
    DATA_DIR: envSchemas.dataDir,
    DATABASE_URL: text,
    REDIS_URL: envSchemas.redisUrl,
    REDIS_PREFIX: envSchemas.redisPrefix,
    ...metricsEnvSchema,
    JWT_ACCESS_SECRET: secret,
    JWT_REFRESH_SECRET: secret,
    MEDIA_TOKEN_PRIVATE_KEY: keyVariables.privateKey,
    SMTP_HOST: text,
    SMTP_PORT: envSchemas.port(587),
    SMTP_USER: text,
    SMTP_PASS: text,
    SMTP_FROM: text,
    WEB_URL: envSchemas.url.default('http://127.0.0.1:3001'),
    SFU_URL: envSchemas.url.default('http://127.0.0.1:4443'),
    SFU_NODE_ID: envSchemas.name('local'),
    SFU_PUBLIC_WS_URL: z.url({ protocol: /^wss?$/ }).optional(),
    SFU_PLACEMENT: z.enum(['single', 'fleet']).optional(),
    SFU_EDGE_LIMIT: envSchemas.int(1, 100_000, 500),
    LIVE_WEBRTC_CAP: z.coerce.number().int().min(0).max(100_000_000).optional(),
    RECORDER_URL: envSchemas.url.optional(),
    STAGE_MAX_GUESTS: envSchemas.int(1, 1000, STAGE_MAX_GUESTS),
    STAGE_INVITE_TTL_MS: envSchemas.int(100, 10 * 60_000, STAGE_INVITE_TTL_MS),
    VAPID_PUBLIC_KEY: base64urlBytes(65, 'an uncompressed P-256 public key').optional(),
    VAPID_PRIVATE_KEY: base64urlBytes(32, 'a P-256 private key').optional(),
    VAPID_SUBJECT: z.string().regex(/^(mailto:\S+@\S+|https:\/\/\S+)$/, 'must be a mailto: or https: URL').optional(),
    PUSH_SERVICE_ORIGINS: z
      .string()
      .transform((list) => list.split(',').map((s) => s.trim()).filter(Boolean))
      .pipe(z.array(envSchemas.url.refine((u) => new URL(u).origin === u.replace(/\/$/, ''), 'must be origins (scheme://host[:port])')))
      .default([]),
    TURN_URLS: optional(z
      .string()
      .transform((list) => list.split(',').map((s) => s.trim()).filter(Boolean))
      .pipe(z.array(z.string().regex(/^turns?:[^\s,?]+(\?transport=(udp|tcp))?$/, 'must be turn: or turns: URIs (host[:port][?transport=udp|tcp])')).min(1))
      .optional()),
    TURN_SECRET: optional(z.string().min(32, 'must be at least 32 characters (coturn\'s static-auth-secret)').optional()),
  })
  .superRefine((env, ctx) => {
    const require = (name: keyof typeof env, because: string) => {
      if (env[name] === undefined) ctx.addIssue({ code: 'custom', path: [name], message: `required when ${because} is set` });
    };
    if (env.SMTP_USER !== undefined) require('SMTP_PASS', 'SMTP_USER');
    if (env.VAPID_PUBLIC_KEY !== undefined) require('VAPID_PRIVATE_KEY', 'VAPID_PUBLIC_KEY');
    if (env.VAPID_PRIVATE_KEY !== undefined) require('VAPID_PUBLIC_KEY', 'VAPID_PRIVATE_KEY');
    if (env.TURN_URLS !== undefined) require('TURN_SECRET', 'TURN_URLS');
    if (env.TURN_SECRET !== undefined) require('TURN_URLS', 'TURN_SECRET');
    if (env.SFU_PLACEMENT === 'fleet' && env.REDIS_URL === undefined) {
      ctx.addIssue({ code: 'custom', path: ['SFU_PLACEMENT'], message: 'fleet needs REDIS_URL (the nodes register there)' });
    }
  })
  // The storage settings (AWS_*) are the storage package's, read the same way by the recorder.
  .and(storageEnvSchema);

type Env = z.output<typeof envSchema>;

const withoutTrailingSlash = (url: string) => url.replace(/\/+$/, '');

function mailConfig(env: Env, dataDir: string, publicUrl: string): MailConfig {
  const from = env.SMTP_FROM ?? `PodLive <no-reply@${new URL(publicUrl).hostname}>`;
  if (env.SMTP_HOST === undefined) return { kind: 'outbox', dir: join(dataDir, 'outbox'), from };
  return {
    kind: 'smtp',
    host: env.SMTP_HOST,
    port: env.SMTP_PORT,
    secure: env.SMTP_PORT === 465,
    user: env.SMTP_USER,
    pass: env.SMTP_PASS,
    from,
  };
}

/**
 * The configured VAPID pair, or one generated once per DATA_DIR (only the private key is kept: the
 * public key is derived from it), so one machine sends Web Push with no setup.
 */
function pushConfig(env: Env, dataDir: string, publicUrl: string): PushConfig {
  const subject = env.VAPID_SUBJECT ?? (publicUrl.startsWith('https://') ? publicUrl : `mailto:no-reply@${new URL(publicUrl).hostname}`);
  const extraServiceOrigins = env.PUSH_SERVICE_ORIGINS.map((u) => new URL(u).origin);
  if (env.VAPID_PUBLIC_KEY !== undefined && env.VAPID_PRIVATE_KEY !== undefined) {
    return { publicKey: env.VAPID_PUBLIC_KEY, privateKey: env.VAPID_PRIVATE_KEY, subject, extraServiceOrigins };
  }
  const privateKey = devSecret(dataDir, 'VAPID_PRIVATE_KEY', () => webpush.generateVAPIDKeys().privateKey);
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(Buffer.from(privateKey, 'base64url'));
  return { publicKey: ecdh.getPublicKey().toString('base64url'), privateKey, subject, extraServiceOrigins };
}

/** A fleet needs the registry (REDIS_URL); naming one node (SFU_URL) says this is not a fleet. */
function defaultPlacement(parsed: Env, raw: NodeJS.ProcessEnv): 'single' | 'fleet' {
  return parsed.REDIS_URL !== undefined && raw.SFU_URL === undefined ? 'fleet' : 'single';
}

/**
 * Parses the environment once, at start-up, into a frozen, typed config. Throws a ConfigError whose
 * message names every bad variable. Secrets not given are generated once per DATA_DIR.
 */
export const loadConfig: (env?: NodeJS.ProcessEnv) => Config = configLoader(envSchema, (parsed, env): Config => {
  const dataDir = parsed.DATA_DIR;
  const publicUrl = withoutTrailingSlash(parsed.PUBLIC_URL ?? `http://localhost:${parsed.PORT}`);
  const secretFrom = (name: 'JWT_ACCESS_SECRET' | 'JWT_REFRESH_SECRET') =>
    parsed[name] ?? devSecret(dataDir, name);
  const mediaToken = parsed.MEDIA_TOKEN_PRIVATE_KEY ?? devPrivateKey(dataDir);
  return {
    host: parsed.HOST,
    port: parsed.PORT,
    publicUrl,
    dataDir,
    databaseUrl: parsed.DATABASE_URL,
    redisUrl: parsed.REDIS_URL,
    redisPrefix: parsed.REDIS_PREFIX,
    metrics: { METRICS_HOST: parsed.METRICS_HOST, METRICS_PORT: parsed.METRICS_PORT, METRICS_TOKEN: parsed.METRICS_TOKEN },
    secrets: {
      jwtAccess: secretFrom('JWT_ACCESS_SECRET'),
      jwtRefresh: secretFrom('JWT_REFRESH_SECRET'),
      mediaToken,
      mediaTokenPublic: publicKeyOf(mediaToken),
    },
    storage: storageConfig(parsed, { dataDir, publicUrl }),
    mail: mailConfig(parsed, dataDir, publicUrl),
    webUrl: withoutTrailingSlash(parsed.WEB_URL),
    sfuUrl: withoutTrailingSlash(parsed.SFU_URL),
    sfuNodeId: parsed.SFU_NODE_ID,
    sfuPublicWsUrl: withoutTrailingSlash(parsed.SFU_PUBLIC_WS_URL ?? parsed.SFU_URL.replace(/^http/, 'ws')),
    sfuPlacement: parsed.SFU_PLACEMENT ?? defaultPlacement(parsed, env),
    sfuEdgeLimit: parsed.SFU_EDGE_LIMIT,
    liveWebrtcCap: parsed.LIVE_WEBRTC_CAP,
    recorderUrl: parsed.RECORDER_URL === undefined ? undefined : withoutTrailingSlash(parsed.RECORDER_URL),
    stage: { maxGuests: parsed.STAGE_MAX_GUESTS, inviteTtlMs: parsed.STAGE_INVITE_TTL_MS },
    push: pushConfig(parsed, dataDir, publicUrl),
    turn: parsed.TURN_URLS !== undefined && parsed.TURN_SECRET !== undefined ? { urls: parsed.TURN_URLS, secret: parsed.TURN_SECRET } : null,
    passwordHash: DEFAULT_PASSWORD_HASH,
    rateLimits: DEFAULT_RATE_LIMITS,
    loginThrottle: DEFAULT_LOGIN_THROTTLE,
  };
});
