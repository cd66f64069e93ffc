import { type Db, eq, users } from '@podlive/db';
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { ApiError } from '../../errors';
import type { Storage } from '../../storage';

export const AVATAR_MAX_BYTES = 5 * 1024 * 1024;
export const AVATAR_SIZE = 256;
const ACCEPTED_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif']);

/**
 * The uploaded bytes as a 256×256 WebP (cover crop, EXIF orientation applied, metadata dropped).
 * The format is sniffed from the bytes by sharp, never taken from the client's file name or type.
 */
export async function renderAvatar(input: Buffer): Promise<Buffer> {
  let format: string | undefined;
  try {
    format = (await sharp(input, { limitInputPixels: 50_000_000 }).metadata()).format;
  } catch (err) {
    throw new ApiError('AVATAR_INVALID', { fields: { avatar: 'Not an image' }, cause: err });
  }
  if (format === undefined || !ACCEPTED_FORMATS.has(format)) {
    throw new ApiError('AVATAR_INVALID', { fields: { avatar: 'Use a JPEG, PNG, WebP or GIF image' } });
  }
  try {
    return await sharp(input, { limitInputPixels: 50_000_000 })
      .rotate()
      .resize(AVATAR_SIZE, AVATAR_SIZE, { fit: 'cover' })
      .webp({ quality: 85 })
      .toBuffer();
  } catch (err) {
    throw new ApiError('AVATAR_INVALID', { fields: { avatar: 'The image could not be read' }, cause: err });
  }
}

/**
 * Stores the new avatar under a fresh key (so its URL can be cached forever), points the user at
 * it, then deletes the old one. A failed delete leaves an orphan object, never a broken avatar.
 */
export async function replaceAvatar(db: Db, storage: Storage, userId: string, webp: Buffer, log: { warn: (o: object, m: string) => void }): Promise<void> {
  const key = `avatars/${userId}/${randomBytes(12).toString('hex')}.webp`;
  await storage.put(key, webp, 'image/webp');
  const old = await db.transaction(async (tx) => {
    const [before] = await tx.select({ avatarKey: users.avatarKey }).from(users).where(eq(users.id, userId)).for('update');
    await tx.update(users).set({ avatarKey: key }).where(eq(users.id, userId));
    return before?.avatarKey;
  });
  if (old !== null && old !== undefined && old !== key) {
    await storage.delete(old).catch((err: unknown) => log.warn({ err, key: old }, 'deleting the old avatar failed'));
  }
}
