import type { Readable } from 'node:stream';

/** An object read back from storage. */
export interface StoredObject {
  body: Readable;
  contentType: string;
  /** Bytes, when the backend knows. */
  size: number | undefined;
}

/**
 * Where avatars, thumbnails, recording chunks, HLS and VODs live (Owncast-style narrow interface).
 * Keys are `/`-separated segments of `[A-Za-z0-9._-]`, no segment starting with a dot
 * (`avatars/u_12/3f9a.webp`); anything else throws StorageError KEY_INVALID.
 */
export interface Storage {
  readonly kind: 'local' | 's3';
  /** Creates or replaces the object. Readers never see a partial object. */
  put(key: string, body: Buffer | Readable, contentType: string): Promise<void>;
  /** The object, or null when there is none. */
  get(key: string): Promise<StoredObject | null>;
  /** Removes the object; removing a missing object is not an error. */
  delete(key: string): Promise<void>;
  /** A URL anyone can GET the object with until it expires (private objects are served only this way). */
  signedUrl(key: string, expiresInSec: number): Promise<string>;
  /**
   * Removes every object whose key starts with `prefix` (a key followed by `/`, such as
   * `recordings/<session>/`; anything else throws StorageError KEY_INVALID, so a typo never
   * empties the bucket). Resolves with the number of objects removed; none is not an error.
   * Objects written under the prefix while this runs may survive.
   */
  deletePrefix(prefix: string): Promise<number>;
}
