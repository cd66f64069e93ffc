import { json } from '@sveltejs/kit';
import { THUMBNAIL_MAX_BYTES } from '@podlive/shared/live';
import { encodePath } from '$lib/server/api';
import { relay, requireToken } from '$lib/server/relay';
import type { RequestHandler } from './$types';

/** Sets a live's thumbnail (multipart field "thumbnail"): the chosen file or a preview frame. */
export const PUT: RequestHandler = async (event) => {
  const token = requireToken(event);
  const thumbnail = (await event.request.formData().catch(() => null))?.get('thumbnail');
  if (!(thumbnail instanceof File) || thumbnail.size === 0) {
    return json({ error: { code: 'VALIDATION_FAILED', message: 'Choose an image', fields: { thumbnail: 'Choose an image' } } }, { status: 400 });
  }
  if (thumbnail.size > THUMBNAIL_MAX_BYTES) {
    return json({ error: { code: 'PAYLOAD_TOO_LARGE', message: 'The image is larger than 5 MB' } }, { status: 413 });
  }
  const body = new FormData();
  body.set('thumbnail', thumbnail, thumbnail.name || 'thumbnail.jpg');
  return relay(`/api/live/${encodePath(event.params.id)}/thumbnail`, { method: 'PUT', body, token });
};
