import {
  DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Readable } from 'node:stream';
import type { StorageConfig } from './env';
import { StorageError } from './errors';
import { assertValidKey, assertValidPrefix } from './key';
import type { Storage, StoredObject } from './storage';

/** Part size of multipart uploads (S3's minimum is 5 MiB). */
export const MULTIPART_PART_BYTES = 8 * 1024 * 1024;

export type S3StorageOptions = Omit<Extract<StorageConfig, { kind: 's3' }>, 'kind'>;

/**
 * Objects in an S3 bucket (AWS, or any S3-compatible endpoint with path-style addressing).
 * Private objects are read through presigned GET URLs.
 */
export class S3Storage implements Storage {
  readonly kind = 's3';
  readonly #client: S3Client;
  readonly #bucket: string;

  constructor(options: S3StorageOptions) {
    this.#bucket = options.bucket;
    const custom = options.endpoint !== undefined;
    this.#client = new S3Client({
      region: options.region,
      credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
      ...(custom
        ? {
            endpoint: options.endpoint,
            forcePathStyle: true,
            // Many S3-compatible servers do not know the SDK's default CRC checksums.
            requestChecksumCalculation: 'WHEN_REQUIRED',
            responseChecksumValidation: 'WHEN_REQUIRED',
          }
        : {}),
    });
  }

  async put(key: string, body: Buffer | Readable, contentType: string): Promise<void> {
    assertValidKey(key);
    if (Buffer.isBuffer(body)) {
      await this.#client.send(new PutObjectCommand({ Bucket: this.#bucket, Key: key, Body: body, ContentType: contentType, ContentLength: body.length }));
      return;
    }
    // A stream (a recording's MP4: hundreds of MB) goes up in parts, never whole in memory:
    // lib-storage's Upload sends one PutObject when it fits in the first part, else a multipart
    // upload (8 MiB parts, 4 at a time), aborted on failure.
    await new Upload({ client: this.#client, params: { Bucket: this.#bucket, Key: key, Body: body, ContentType: contentType }, partSize: MULTIPART_PART_BYTES, queueSize: 4 }).done();
  }

  async get(key: string): Promise<StoredObject | null> {
    assertValidKey(key);
    try {
      const output = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: key }));
      if (!(output.Body instanceof Readable)) throw new TypeError('S3 GetObject returned a body that is not a Node stream');
      return { body: output.Body, contentType: output.ContentType ?? 'application/octet-stream', size: output.ContentLength };
    } catch (err) {
      if (err instanceof NoSuchKey) return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: key }));
  }

  /**
   * ListObjectsV2 pages (up to 1000 keys each), each deleted with one DeleteObjects. A key S3
   * refuses to delete fails the call (naming it) once its page is done; the caller may retry.
   */
  async deletePrefix(prefix: string): Promise<number> {
    assertValidPrefix(prefix);
    let deleted = 0;
    let continuationToken: string | undefined;
    do {
      const page = await this.#client.send(
        new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: prefix, ...(continuationToken === undefined ? {} : { ContinuationToken: continuationToken }) }),
      );
      const keys = (page.Contents ?? []).flatMap((object) => (object.Key === undefined ? [] : [{ Key: object.Key }]));
      if (keys.length > 0) {
        const result = await this.#client.send(new DeleteObjectsCommand({ Bucket: this.#bucket, Delete: { Objects: keys, Quiet: true } }));
        const errors = result.Errors ?? [];
        deleted += keys.length - errors.length;
        if (errors.length > 0) {
          const first = errors[0];
          throw StorageError.deleteIncomplete(`S3 refused to delete ${errors.length} object(s) under ${prefix}, e.g. ${first?.Key ?? '?'}: ${first?.Code ?? ''} ${first?.Message ?? ''}`.trim());
        }
      }
      continuationToken = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (continuationToken !== undefined);
    return deleted;
  }

  async signedUrl(key: string, expiresInSec: number): Promise<string> {
    assertValidKey(key);
    return getSignedUrl(this.#client, new GetObjectCommand({ Bucket: this.#bucket, Key: key }), {
      expiresIn: Math.max(1, Math.floor(expiresInSec)),
    });
  }

  close(): void {
    this.#client.destroy();
  }
}
