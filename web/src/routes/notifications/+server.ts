import { relay, requireToken } from '$lib/server/relay';
import type { RequestHandler } from './$types';

/** The signed-in user's notifications (GET /api/notifications, query passed on). */
export const GET: RequestHandler = async (event) => {
  const response = await relay(`/api/notifications${event.url.search}`, { token: requireToken(event) });
  response.headers.set('cache-control', 'no-store');
  return response;
};
