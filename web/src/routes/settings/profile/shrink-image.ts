/** Above this, an avatar is shrunk in the browser before upload (the web app's body limit is 512 KB). */
export const SHRINK_ABOVE_BYTES = 400 * 1024;
const MAX_SIDE = 1024;

/**
 * A smaller copy of an image (longest side MAX_SIDE, WebP), or the file itself when it is small
 * already or the browser can't decode it (the server then has the final word).
 */
export async function shrinkImage(file: File): Promise<File> {
  if (file.size <= SHRINK_ABOVE_BYTES) return file;
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
    const canvas = new OffscreenCanvas(Math.round(bitmap.width * scale), Math.round(bitmap.height * scale));
    canvas.getContext('2d')?.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    const blob = await canvas.convertToBlob({ type: 'image/webp', quality: 0.9 });
    return new File([blob], 'avatar.webp', { type: blob.type });
  } catch {
    return file;
  }
}
