import { type Db, eq, users } from '@podlive/db';
import { newImageKey, renderImage, replaceImage, type ImageKind } from '../../media/images';
import type { Storage } from '@podlive/storage';

export const AVATAR_MAX_BYTES = 5 * 1024 * 1024;
export const AVATAR_SIZE = 256;
const AVATAR: ImageKind = { width: AVATAR_SIZE, height: AVATAR_SIZE, invalid: 'AVATAR_INVALID', field: 'avatar' };

/** The uploaded bytes as a 256×256 WebP; see renderImage. */
export const renderAvatar = (input: Buffer): Promise<Buffer> => renderImage(input, AVATAR);

/** Stores the new avatar under a fresh key, points the user at it, then deletes the old one. */
export async function replaceAvatar(db: Db, storage: Storage, userId: string, webp: Buffer, log: { warn: (o: object, m: string) => void }): Promise<void> {
  await replaceImage(storage, newImageKey('avatars', userId), webp, (key) =>
    db.transaction(async (tx) => {
      const [before] = await tx.select({ avatarKey: users.avatarKey }).from(users).where(eq(users.id, userId)).for('update');
      await tx.update(users).set({ avatarKey: key }).where(eq(users.id, userId));
      return before?.avatarKey;
    }), log);
}
