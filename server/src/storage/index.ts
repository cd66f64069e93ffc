import type { Config } from '../config';
import { LocalStorage } from './local-storage';
import { S3Storage } from './s3-storage';
import type { Storage } from './storage';

export { isValidKey, assertValidKey, keyToUrlPath } from './key';
export { LocalStorage, LOCAL_STORAGE_ROUTE, type LocalStorageOptions } from './local-storage';
export { S3Storage, type S3StorageOptions } from './s3-storage';
export type { Storage, StoredObject } from './storage';

/** S3Storage when AWS_S3_BUCKET is set, LocalStorage under DATA_DIR/storage otherwise. */
export function createStorage(config: Pick<Config, 'storage' | 'publicUrl'>): Storage {
  const { storage } = config;
  if (storage.kind === 's3') return new S3Storage(storage);
  return new LocalStorage({ dir: storage.dir, publicUrl: config.publicUrl, urlSecret: storage.urlSecret });
}
