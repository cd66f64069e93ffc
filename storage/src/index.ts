import type { StorageConfig } from './env';
import { LocalStorage } from './local-storage';
import { S3Storage } from './s3-storage';
import type { Storage } from './storage';

export { storageConfig, storageEnvSchema, type StorageConfig, type StorageEnv } from './env';
export { StorageError, type StorageErrorCode } from './errors';
export { isValidKey, assertValidKey, assertValidPrefix, keyToUrlPath } from './key';
export { LocalStorage, LOCAL_STORAGE_ROUTE, type LocalStorageOptions } from './local-storage';
export { S3Storage, type S3StorageOptions } from './s3-storage';
export { checkSignature, signKey, type SignatureCheck } from './signature';
export type { Storage, StoredObject } from './storage';

/** S3Storage when the settings name a bucket, LocalStorage under DATA_DIR/storage otherwise. */
export function createStorage(config: StorageConfig): Storage {
  if (config.kind === 's3') return new S3Storage(config);
  return new LocalStorage(config);
}
