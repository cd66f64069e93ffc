import { StorageError } from './errors';

const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
const MAX_KEY_LENGTH = 1024;

/** True for keys that are safe as both S3 keys and relative file paths (no `..`, no absolute paths). */
export function isValidKey(key: string): boolean {
  return key.length > 0 && key.length <= MAX_KEY_LENGTH && key.split('/').every((segment) => SEGMENT.test(segment));
}

/** Throws StorageError KEY_INVALID unless `isValidKey(key)`. */
export function assertValidKey(key: string): void {
  if (!isValidKey(key)) throw StorageError.invalidKey('key', 'must be /-separated segments of [A-Za-z0-9._-], none starting with a dot');
}

/** Percent-encodes each segment for use in a URL path. */
export function keyToUrlPath(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

/** Throws StorageError KEY_INVALID unless `prefix` is a valid key followed by `/` (`recordings/abc/`). */
export function assertValidPrefix(prefix: string): void {
  if (!prefix.endsWith('/') || !isValidKey(prefix.slice(0, -1))) throw StorageError.invalidKey('prefix', 'must be a valid key followed by /');
}
