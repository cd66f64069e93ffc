import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { ApiError, type ErrorCode } from '../errors';
import type { Storage } from '@podlive/storage';

const ACCEPTED_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif']);
const MAX_INPUT_PIXELS = 50_000_000;

/** How one kind of uploaded picture (avatar, thumbnail) is checked and rendered. */
export interface ImageKind {
  width: number;
  height: number;
  /** The coded error for an upload that is not an accepted image. */
  invalid: ErrorCode;
  /** The multipart field, named in the error's fields. */
  field: string;
}

/**
 * The uploaded bytes as a `width`×`height` WebP (cover crop, EXIF orientation applied, metadata
 * dropped). The format is sniffed from the bytes by sharp, never taken from the client's name or type.
 */
export async function renderImage(input: Buffer, kind: ImageKind): Promise<Buffer> {
  const fail = (reason: string, cause?: unknown) => new ApiError(kind.invalid, { fields: { [kind.field]: reason }, cause });
  let format: string | undefined;
  try {
    format = (await sharp(input, { limitInputPixels: MAX_INPUT_PIXELS }).metadata()).format;
  } catch (err) {
    throw fail('Not an image', err);
  }
  if (format === undefined || !ACCEPTED_FORMATS.has(format)) throw fail('Use a JPEG, PNG, WebP or GIF image');
  try {
    return await sharp(input, { limitInputPixels: MAX_INPUT_PIXELS })
      .rotate()
      .resize(kind.width, kind.height, { fit: 'cover' })
      .webp({ quality: 85 })
      .toBuffer();
  } catch (err) {
    throw fail('The image could not be read', err);
  }
}

/** `<prefix>/<owner id>/<24 hex>.webp`: a fresh key per upload, so its URL can be cached forever. */
export function newImageKey(prefix: string, ownerId: string): string {
  return `${prefix}/${ownerId}/${randomBytes(12).toString('hex')}.webp`;
}

/**
 * Stores `webp` under a fresh key, lets `point` switch the owner's row to it (returning the key it
 * replaced), then deletes the old object. A failed delete leaves an orphan, never a broken image.
 */
export async function replaceImage(
  storage: Storage,
  key: string,
  webp: Buffer,
  point: (key: string) => Promise<string | null | undefined>,
  log: { warn: (o: object, m: string) => void },
): Promise<void> {
  await storage.put(key, webp, 'image/webp');
  const old = await point(key);
  if (old !== null && old !== undefined && old !== key) {
    await storage.delete(old).catch((err: unknown) => log.warn({ err, key: old }, 'deleting a replaced image failed'));
  }
}
