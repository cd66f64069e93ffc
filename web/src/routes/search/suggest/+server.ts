import { relay } from '$lib/server/relay';
import type { RequestHandler } from './$types';

/** Suggestions as you type (GET /api/search/suggest?q=): signed in or not (the API leaves out who blocked the caller). */
export const GET: RequestHandler = async (event) => {
  const response = await relay(`/api/search/suggest${event.url.search}`, { token: event.locals.accessToken });
  response.headers.set('cache-control', 'no-store');
  return response;
};
