import { json } from '@sveltejs/kit';
import { createLiveBody } from '@podlive/shared/live';
import { zodFields } from '$lib/server/forms';
import { relay, requireToken } from '$lib/server/relay';
import type { RequestHandler } from './$types';

/** Creates a live (scheduled or ready to start) for the signed-in host: 201 {session}. */
export const POST: RequestHandler = async (event) => {
  const token = requireToken(event);
  const parsed = createLiveBody.safeParse(await event.request.json().catch(() => null));
  if (!parsed.success) {
    return json({ error: { code: 'VALIDATION_FAILED', message: 'Please fix the highlighted fields', fields: zodFields(parsed.error) } }, { status: 400 });
  }
  return relay('/api/live/create', { method: 'POST', body: parsed.data, token }, 201);
};
