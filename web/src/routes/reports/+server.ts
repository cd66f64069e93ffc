import { relay, requireToken } from '$lib/server/relay';
import type { RequestHandler } from './$types';

/** POST /api/reports with the signed-in user's token (201 new, 200 the same open report again). */
export const POST: RequestHandler = async (event) => {
  const body = await event.request.json().catch(() => ({}));
  const response = await relay('/api/reports', { method: 'POST', token: requireToken(event), body });
  return response;
};
