import { eq, liveSessions } from '@podlive/db';
import { THUMBNAIL_MAX_BYTES } from '@podlive/shared/live';
import { newImageKey, renderImage, replaceImage, type ImageKind } from '../../media/images';
import type { Storage } from '@podlive/storage';
import type { LiveContext } from './context';

export { THUMBNAIL_MAX_BYTES };
const THUMBNAIL: ImageKind = { width: 1280, height: 720, invalid: 'THUMBNAIL_INVALID', field: 'thumbnail' };

/** Renders the upload as a 1280×720 WebP under a fresh key, points the session at it, deletes the old one. */
export async function replaceThumbnail(ctx: LiveContext, storage: Storage, sessionId: string, upload: Buffer): Promise<void> {
  const webp = await renderImage(upload, THUMBNAIL);
  await replaceImage(storage, newImageKey('thumbnails', sessionId), webp, (key) =>
    ctx.db.transaction(async (tx) => {
      const [before] = await tx.select({ key: liveSessions.thumbnailKey }).from(liveSessions).where(eq(liveSessions.id, sessionId)).for('update');
      await tx.update(liveSessions).set({ thumbnailKey: key }).where(eq(liveSessions.id, sessionId));
      return before?.key;
    }), ctx.log);
}
