import { devSecret, envSchemas } from '@podlive/shared/env';
import { join } from 'node:path';
import { z } from 'zod';

/** Where objects live: a directory (its links served by the control plane), or an S3 bucket. */
export type StorageConfig =
  | {
      readonly kind: 'local';
      /** DATA_DIR/storage: objects/, meta/, tmp/. */
      readonly dir: string;
      /** HMAC key of the signed links, generated once into DATA_DIR/secrets/STORAGE_URL_SECRET. */
      readonly urlSecret: string;
      /** The control plane's public origin: links are `${publicUrl}/api/storage/<key>?exp=..&sig=..`. */
      readonly publicUrl: string;
    }
  | {
      readonly kind: 's3';
      readonly bucket: string;
      /** AWS_REGION, default us-east-1. */
      readonly region: string;
      /** Custom endpoint (MinIO, R2, s3rver); path-style addressing is used when set. */
      readonly endpoint: string | undefined;
      readonly accessKeyId: string;
      readonly secretAccessKey: string;
    };

const blankToUndefined = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);
const text = envSchemas.optionalString;

/**
 * The storage settings, the same for every process that reads or writes objects (the control plane
 * and the recorder). Blank values count as unset. Combine with a process's own schema with
 * `.and(storageEnvSchema)`, so one ConfigError names every bad variable, then call storageConfig.
 */
export const storageEnvSchema = z
  .object({
    /** Set: objects live in this S3 bucket. Unset: in DATA_DIR/storage. */
    AWS_S3_BUCKET: text,
    AWS_REGION: text,
    AWS_ACCESS_KEY_ID: text,
    AWS_SECRET_ACCESS_KEY: text,
    /** An S3-compatible server's URL (MinIO, R2, s3rver). */
    AWS_ENDPOINT_URL_S3: z.preprocess(blankToUndefined, envSchemas.url.optional()),
  })
  .superRefine((env, ctx) => {
    if (env.AWS_S3_BUCKET === undefined) return;
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const) {
      if (env[name] === undefined) ctx.addIssue({ code: 'custom', path: [name], message: 'required when AWS_S3_BUCKET is set' });
    }
  });

export type StorageEnv = z.output<typeof storageEnvSchema>;

/**
 * The storage of parsed settings: S3 when AWS_S3_BUCKET is set, else the local directory under
 * `dataDir` whose links point at `publicUrl` (the control plane's public origin).
 */
export function storageConfig(env: StorageEnv, where: { dataDir: string; publicUrl: string }): StorageConfig {
  if (env.AWS_S3_BUCKET === undefined) {
    return {
      kind: 'local',
      dir: join(where.dataDir, 'storage'),
      urlSecret: devSecret(where.dataDir, 'STORAGE_URL_SECRET'),
      publicUrl: where.publicUrl.replace(/\/+$/, ''),
    };
  }
  return {
    kind: 's3',
    bucket: env.AWS_S3_BUCKET,
    region: env.AWS_REGION ?? 'us-east-1',
    endpoint: env.AWS_ENDPOINT_URL_S3,
    // Presence is checked by the schema's refinement.
    accessKeyId: env.AWS_ACCESS_KEY_ID ?? '',
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? '',
  };
}
