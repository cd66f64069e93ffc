import type { FastifyRequest } from 'fastify';
import { ApiError } from '../errors';

/**
 * The bytes of the one file of a multipart upload in field `field` (avatar, thumbnail). The body
 * must be multipart (415 otherwise) with that field (400 VALIDATION_FAILED). A body the multipart
 * parser cannot read (no boundary, cut short, broken headers) is the client's: 400
 * MULTIPART_INVALID. @fastify/multipart's own errors (too large, too many parts) keep their 4xx.
 */
export async function readUpload(request: FastifyRequest, field: string): Promise<Buffer> {
  if (!request.isMultipart()) throw new ApiError('UNSUPPORTED_MEDIA_TYPE', { message: `Send the image as multipart/form-data (field "${field}")` });
  try {
    const file = await request.file();
    if (file === undefined || file.fieldname !== field) throw new ApiError('VALIDATION_FAILED', { fields: { [field]: `Attach an image in the field "${field}"` } });
    return await file.toBuffer();
  } catch (err) {
    if (err instanceof ApiError || hasClientStatus(err)) throw err;
    throw new ApiError('MULTIPART_INVALID', { cause: err });
  }
}

const hasClientStatus = (err: unknown) => {
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500;
};
