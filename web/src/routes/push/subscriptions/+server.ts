import { relay, requireToken } from '$lib/server/relay';
import type { RequestHandler } from './$types';

/** Saves (POST) or drops (DELETE) this browser's push subscription for the signed-in user. */
const forward = (method: 'POST' | 'DELETE'): RequestHandler => async (event) => {
  const body = await event.request.json().catch(() => ({}));
  return relay('/api/push/subscriptions', { method, token: requireToken(event), body }, method === 'POST' ? 201 : 200);
};

export const POST = forward('POST');
export const DELETE = forward('DELETE');
