import { relay, requireToken } from '$lib/server/relay';
import type { RequestHandler } from './$types';

/** Marks notifications read (POST /api/notifications/read: `{ ids }` or `{ all: true }`). */
export const POST: RequestHandler = async (event) => {
  const body = await event.request.json().catch(() => ({}));
  return relay('/api/notifications/read', { method: 'POST', token: requireToken(event), body });
};
